//! Photos as wangge keeps them.
//!
//! A photo is accepted by what its bytes are, never by its name or the
//! type a client claims: JPEG, PNG or WebP. The byte size and the pixel
//! count are checked before anything is decoded, so a small file that
//! claims to be 100,000 × 100,000 pixels (a pixel bomb) is refused from
//! its header. The image is then decoded, turned upright from its EXIF
//! orientation and encoded again: nothing of the original file's metadata
//! (EXIF with GPS position and camera, XMP, comments, ICC profiles) is
//! carried over, because only pixels are. A thumbnail is made beside it.
//!
//! Pure: bytes in, bytes out, no I/O.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::PngEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// How large a photo may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhotoLimits {
    /// Bytes of the uploaded file.
    pub max_bytes: usize,
    /// Width × height.
    pub max_pixels: u64,
}

impl Default for PhotoLimits {
    /// 10 MB and 40 megapixels: any phone camera, nothing more.
    fn default() -> Self {
        Self {
            max_bytes: 10 * 1024 * 1024,
            max_pixels: 40_000_000,
        }
    }
}

/// The longest side of a thumbnail, in pixels.
pub const THUMB_SIDE: u32 = 320;
const JPEG_QUALITY: u8 = 85;

/// Why a photo was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("the photo is empty")]
    Empty,
    #[error("the photo is {size} bytes; at most {max} are accepted")]
    TooLarge { size: usize, max: usize },
    #[error("only JPEG, PNG and WebP photos are accepted")]
    UnsupportedType,
    #[error("the photo is {width} × {height} pixels; at most {max} pixels are accepted")]
    TooManyPixels { width: u32, height: u32, max: u64 },
    #[error("the photo cannot be read: {0}")]
    Unreadable(String),
}

impl PhotoError {
    /// The message in Chinese.
    pub fn zh(&self) -> String {
        match self {
            PhotoError::Empty => "照片是空的".into(),
            PhotoError::TooLarge { max, .. } => {
                format!("照片太大，最大 {} MB", max / (1024 * 1024))
            }
            PhotoError::UnsupportedType => "只接受 JPEG、PNG 或 WebP 格式的照片".into(),
            PhotoError::TooManyPixels { width, height, max } => format!(
                "照片尺寸 {width}×{height} 过大，最多 {} 万像素",
                max / 10_000
            ),
            PhotoError::Unreadable(_) => "照片已损坏，无法读取".into(),
        }
    }
}

/// A photo ready to store: clean bytes and a thumbnail.
#[derive(Debug, Clone)]
pub struct CleanPhoto {
    /// `image/jpeg` or `image/png`.
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Always JPEG.
    pub thumbnail: Vec<u8>,
}

/// What the bytes are, by their content.
pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
    match image::guess_format(bytes).ok()? {
        f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) => Some(f),
        _ => None,
    }
}

/// Checks a photo and re-encodes it without metadata, with a thumbnail.
pub fn clean(bytes: &[u8], limits: PhotoLimits) -> Result<CleanPhoto, PhotoError> {
    if bytes.is_empty() {
        return Err(PhotoError::Empty);
    }
    if bytes.len() > limits.max_bytes {
        return Err(PhotoError::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let format = sniff(bytes).ok_or(PhotoError::UnsupportedType)?;
    let unreadable = |e: image::ImageError| PhotoError::Unreadable(e.to_string());
    // The header alone tells the size: refuse a pixel bomb before decoding.
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(unreadable)?;
    if u64::from(width) * u64::from(height) > limits.max_pixels {
        return Err(PhotoError::TooManyPixels {
            width,
            height,
            max: limits.max_pixels,
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut decode_limits = Limits::default();
    // RGBA at 8 bits, with room for the decoder's own buffers.
    decode_limits.max_alloc = Some(limits.max_pixels * 4 * 2);
    reader.limits(decode_limits);
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());

    let keeps_alpha = format == ImageFormat::Png && image.color().has_alpha();
    let (content_type, bytes) = if keeps_alpha {
        let mut out = Vec::new();
        image
            .write_with_encoder(PngEncoder::new(&mut out))
            .map_err(unreadable)?;
        ("image/png", out)
    } else {
        ("image/jpeg", jpeg(&image)?)
    };
    let thumbnail = jpeg(&image.thumbnail(THUMB_SIDE, THUMB_SIDE))?;
    Ok(CleanPhoto {
        content_type,
        bytes,
        width,
        height,
        thumbnail,
    })
}

fn jpeg(image: &DynamicImage) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(image.to_rgb8())
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY))
        .map_err(|e| PhotoError::Unreadable(e.to_string()))?;
    Ok(out)
}

/// A synthetic photo for demos and benchmarks: a street scene in flat
/// colours (sky, wall, road, a dark manhole), varied by `seed`. Never a
/// real photo, so never anyone's face or home.
pub fn sample_photo(seed: u64, width: u32, height: u32) -> Vec<u8> {
    let hue = |shift: u32| ((seed >> shift) & 0x3F) as u8;
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let (fx, fy) = (x as f32 / width as f32, y as f32 / height as f32);
        let (cx, cy) = (fx - 0.5, (fy - 0.78) * 2.5);
        if cx * cx + cy * cy < 0.012 {
            image::Rgb([25, 25, 28])
        } else if fy > 0.6 {
            image::Rgb([90 + hue(0), 90 + hue(0), 95 + hue(0)])
        } else if fy > 0.25 {
            image::Rgb([170 + hue(6), 140 + hue(12) / 2, 110])
        } else {
            image::Rgb([120, 170 + hue(18) / 2, 220])
        }
    });
    let mut out = Vec::new();
    // Encoding an in-memory RGB image into a Vec cannot fail.
    let _ = DynamicImage::ImageRgb8(image)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY));
    out
}
