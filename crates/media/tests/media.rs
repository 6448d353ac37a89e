//! Photos: refused by content, size and pixels; EXIF gone from what is kept.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use wangge_media::{PhotoError, PhotoLimits, THUMB_SIDE, clean, sniff};
use wangge_testkit::photos::{CAMERA, GPS_SECONDS, contains, pixel_bomb, with_exif};

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_with_encoder(JpegEncoder::new_with_quality(&mut out, 90))
        .unwrap();
    out
}

fn encoded(img: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

#[test]
fn exif_with_gps_and_camera_is_gone_and_the_photo_is_upright() {
    // A phone held sideways: 40 × 20 stored, orientation 6 (turn 90°).
    let original = with_exif(&jpeg(40, 20), 6);
    assert!(contains(&original, CAMERA) && contains(&original, b"Exif"));
    let photo = clean(&original, PhotoLimits::default()).unwrap();
    assert_eq!(photo.content_type, "image/jpeg");
    assert_eq!((photo.width, photo.height), (20, 40), "turned upright");
    for kept in [&photo.bytes, &photo.thumbnail] {
        assert!(!contains(kept, b"Exif"), "no EXIF block");
        assert!(!contains(kept, CAMERA), "no camera");
        assert!(
            !contains(kept, &GPS_SECONDS.to_le_bytes()),
            "no GPS figures"
        );
        assert_eq!(sniff(kept), Some(ImageFormat::Jpeg));
    }
    let back = image::load_from_memory(&photo.bytes).unwrap();
    assert_eq!((back.width(), back.height()), (20, 40));
}

#[test]
fn the_type_is_decided_by_content_not_by_name() {
    assert_eq!(
        clean(b"not a photo at all, just text", PhotoLimits::default()).unwrap_err(),
        PhotoError::UnsupportedType
    );
    for other in [
        &b"GIF89a\x04\x00\x04\x00\x00\x00\x00;"[..],
        b"BM\x3a\x00\x00\x00",
    ] {
        assert_eq!(
            clean(other, PhotoLimits::default()).unwrap_err(),
            PhotoError::UnsupportedType,
            "GIF and BMP are images, but not ones we accept"
        );
    }
    assert_eq!(
        clean(&[], PhotoLimits::default()).unwrap_err(),
        PhotoError::Empty
    );
    // A JPEG cut short is refused, not half-stored.
    let cut = &jpeg(64, 64)[..200];
    assert!(matches!(
        clean(cut, PhotoLimits::default()).unwrap_err(),
        PhotoError::Unreadable(_)
    ));
}

#[test]
fn png_and_webp_are_accepted_and_thumbnailed() {
    let transparent = encoded(
        DynamicImage::ImageRgba8(RgbaImage::from_pixel(800, 600, Rgba([10, 20, 30, 128]))),
        ImageFormat::Png,
    );
    let photo = clean(&transparent, PhotoLimits::default()).unwrap();
    assert_eq!(photo.content_type, "image/png", "transparency kept");
    let thumb = image::load_from_memory(&photo.thumbnail).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (THUMB_SIDE, 240));

    let webp = encoded(
        DynamicImage::ImageRgba8(RgbaImage::from_pixel(30, 10, Rgba([200, 20, 30, 255]))),
        ImageFormat::WebP,
    );
    assert_eq!(sniff(&webp), Some(ImageFormat::WebP));
    let photo = clean(&webp, PhotoLimits::default()).unwrap();
    assert_eq!(photo.content_type, "image/jpeg");
    assert_eq!((photo.width, photo.height), (30, 10));
}

#[test]
fn too_many_bytes_is_refused() {
    let big = jpeg(300, 300);
    let limits = PhotoLimits {
        max_bytes: big.len() - 1,
        ..PhotoLimits::default()
    };
    assert!(matches!(
        clean(&big, limits).unwrap_err(),
        PhotoError::TooLarge { .. }
    ));
}

#[test]
fn a_pixel_bomb_is_refused_from_its_header() {
    let bomb = pixel_bomb();
    assert!(bomb.len() < 100);
    assert_eq!(
        clean(&bomb, PhotoLimits::default()).unwrap_err(),
        PhotoError::TooManyPixels {
            width: 100_000,
            height: 100_000,
            max: 40_000_000
        }
    );
    // And the limit is the configured one.
    let limits = PhotoLimits {
        max_pixels: 50 * 50,
        ..PhotoLimits::default()
    };
    assert!(matches!(
        clean(&jpeg(60, 50), limits).unwrap_err(),
        PhotoError::TooManyPixels { .. }
    ));
    assert!(clean(&jpeg(50, 50), limits).is_ok());
}

#[test]
fn messages_are_in_chinese_too() {
    assert!(PhotoError::UnsupportedType.zh().contains("JPEG"));
    assert!(
        PhotoError::TooLarge {
            size: 11 << 20,
            max: 10 << 20
        }
        .zh()
        .contains("10 MB")
    );
}
