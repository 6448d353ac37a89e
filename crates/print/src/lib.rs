//! Printed documents: A4 PDFs with Chinese text, for the paper that field
//! work still needs: QR check-in cards for residents without a phone, and
//! the recommendation form of a referral.
//!
//! Text is set in WenQuanYi Micro Hei (Apache-2.0, `fonts/`), embedded as a
//! subset of the glyphs used, as a CID font with a ToUnicode map, so the
//! text can be searched and copied out of the PDF. QR codes are images,
//! one pixel per module, scaled up without smoothing.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};

const FONT: &[u8] = include_bytes!("../fonts/wqy-microhei.ttc");

/// A4 in points.
pub const A4: (f32, f32) = (595.0, 842.0);

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("the font cannot be read: {0}")]
    Font(String),
    #[error("the QR code cannot hold {0:?}")]
    Qr(String),
}

/// One QR card: a title, the name and place printed (masked), a hint, and
/// what the QR code carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub title: String,
    pub name: String,
    pub place: String,
    pub hint: String,
    pub qr_payload: String,
}

/// A form: a title, labelled rows (long values wrap), and lines to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub title: String,
    pub subtitle: String,
    pub rows: Vec<(String, String)>,
    pub signatures: Vec<String>,
    pub footer: String,
}

/// What a page shows: text runs and images, in points from the bottom left.
#[derive(Default)]
struct Page {
    texts: Vec<(f32, f32, f32, String)>,
    images: Vec<(f32, f32, f32, usize)>,
    /// Rectangles `(x, y, w, h, dashed)`.
    boxes: Vec<(f32, f32, f32, f32, bool)>,
    lines: Vec<(f32, f32, f32, f32)>,
}

/// A grey image: `(width, height, samples)`.
type Gray = (u32, u32, Vec<u8>);

struct Font<'a> {
    font: FontRef<'a>,
    upem: f32,
}

impl<'a> Font<'a> {
    fn load() -> Result<Font<'static>, PrintError> {
        let font = FontRef::from_index(FONT, 0).map_err(|e| PrintError::Font(e.to_string()))?;
        let upem = font
            .metrics(Size::unscaled(), LocationRef::default())
            .units_per_em as f32;
        Ok(Font { font, upem })
    }

    fn glyph(&self, c: char) -> u16 {
        self.font
            .charmap()
            .map(c)
            .map(|g| g.to_u32() as u16)
            .unwrap_or(0)
    }

    /// Advance of a glyph in thousandths of the font size.
    fn advance(&self, gid: u16) -> f32 {
        self.font
            .glyph_metrics(Size::unscaled(), LocationRef::default())
            .advance_width(skrifa::GlyphId::new(gid.into()))
            .unwrap_or(self.upem)
            * 1000.0
            / self.upem
    }

    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advance(self.glyph(c)))
            .sum::<f32>()
            * size
            / 1000.0
    }

    /// Breaks `text` into lines no wider than `width` at `size`.
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in text.split('\n') {
            let mut line = String::new();
            let mut w = 0.0;
            for c in para.chars() {
                let cw = self.advance(self.glyph(c)) * size / 1000.0;
                if w + cw > width && !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    w = 0.0;
                }
                line.push(c);
                w += cw;
            }
            lines.push(line);
        }
        lines
    }
}

fn qr_image(payload: &str) -> Result<Gray, PrintError> {
    let code = qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| PrintError::Qr(payload.to_owned()))?;
    let n = code.width();
    let quiet = 4;
    let size = n + 2 * quiet;
    let colors = code.to_colors();
    let mut samples = vec![255u8; size * size];
    for y in 0..n {
        for x in 0..n {
            if colors[y * n + x] == qrcode::Color::Dark {
                samples[(y + quiet) * size + x + quiet] = 0;
            }
        }
    }
    Ok((size as u32, size as u32, samples))
}

/// Writes pages into a PDF, embedding the glyphs they use.
fn render(pages: &[Page], images: &[Gray], title: &str) -> Result<Vec<u8>, PrintError> {
    let font = Font::load()?;
    // The glyphs used, renumbered for the subset.
    let mut remapper = subsetter::GlyphRemapper::new();
    let mut used: BTreeMap<u16, char> = BTreeMap::new();
    for page in pages {
        for (_, _, _, text) in &page.texts {
            for c in text.chars() {
                let g = font.glyph(c);
                remapper.remap(g);
                used.entry(g).or_insert(c);
            }
        }
    }
    let subset =
        subsetter::subset(FONT, 0, &remapper).map_err(|e| PrintError::Font(format!("{e:?}")))?;
    let cid = |c: char| remapper.get(font.glyph(c)).unwrap_or(0);

    let mut pdf = Pdf::new();
    let mut next = 1;
    let mut alloc = || {
        let r = Ref::new(next);
        next += 1;
        r
    };
    let catalog = alloc();
    let tree = alloc();
    let info = alloc();
    let type0 = alloc();
    let cid_font = alloc();
    let descriptor = alloc();
    let file = alloc();
    let cmap_ref = alloc();
    let image_refs: Vec<Ref> = images.iter().map(|_| alloc()).collect();
    let page_refs: Vec<(Ref, Ref)> = pages.iter().map(|_| (alloc(), alloc())).collect();

    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_refs.iter().map(|(p, _)| *p))
        .count(pages.len() as i32);
    pdf.document_info(info)
        .title(pdf_writer::TextStr(title))
        .producer(pdf_writer::TextStr("wangge"));

    let base = Name(b"WGAAAA+WenQuanYiMicroHei");
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(type0)
        .base_font(base)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_font)
        .to_unicode(cmap_ref);
    let mut widths: Vec<(u16, f32)> = used
        .keys()
        .filter_map(|g| remapper.get(*g).map(|n| (n, font.advance(*g))))
        .collect();
    widths.sort_by_key(|(n, _)| *n);
    {
        let mut cf = pdf.cid_font(cid_font);
        cf.subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(system)
            .font_descriptor(descriptor)
            .default_width(1000.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        let mut w = cf.widths();
        for (n, width) in &widths {
            w.consecutive(*n, [*width]);
        }
    }
    let metrics = font.font.metrics(Size::unscaled(), LocationRef::default());
    let scale = 1000.0 / font.upem;
    pdf.font_descriptor(descriptor)
        .name(base)
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            0.0,
            metrics.descent * scale,
            1000.0,
            metrics.ascent * scale,
        ))
        .italic_angle(0.0)
        .ascent(metrics.ascent * scale)
        .descent(metrics.descent * scale)
        .cap_height(metrics.cap_height.unwrap_or(metrics.ascent) * scale)
        .stem_v(80.0)
        .font_file2(file);
    pdf.stream(file, &subset);
    let mut cmap = UnicodeCmap::<u16>::new(Name(b"Custom"), system);
    for (g, c) in &used {
        if let Some(n) = remapper.get(*g) {
            cmap.pair(n, *c);
        }
    }
    pdf.cmap(cmap_ref, &cmap.finish());

    for ((w, h, samples), r) in images.iter().zip(&image_refs) {
        let mut image = pdf.image_xobject(*r, samples);
        image.width(*w as i32).height(*h as i32);
        image.color_space().device_gray();
        image.bits_per_component(8).interpolate(false);
        image.finish();
    }

    for (page, (page_ref, content_ref)) in pages.iter().zip(&page_refs) {
        let mut content = Content::new();
        content.set_line_width(0.6);
        for (x, y, w, h, dashed) in &page.boxes {
            if *dashed {
                content.set_dash_pattern([4.0, 3.0], 0.0);
            } else {
                content.set_dash_pattern([], 0.0);
            }
            content.rect(*x, *y, *w, *h).stroke();
        }
        content.set_dash_pattern([], 0.0);
        for (x1, y1, x2, y2) in &page.lines {
            content.move_to(*x1, *y1).line_to(*x2, *y2).stroke();
        }
        for (x, y, size, index) in &page.images {
            content
                .save_state()
                .transform([*size, 0.0, 0.0, *size, *x, *y])
                .x_object(Name(format!("Im{index}").as_bytes()))
                .restore_state();
        }
        for (x, y, size, text) in &page.texts {
            let bytes: Vec<u8> = text.chars().flat_map(|c| cid(c).to_be_bytes()).collect();
            content
                .begin_text()
                .set_font(Name(b"F1"), *size)
                .next_line(*x, *y)
                .show(Str(&bytes))
                .end_text();
        }
        let stream = content.finish();
        let mut p = pdf.page(*page_ref);
        p.media_box(Rect::new(0.0, 0.0, A4.0, A4.1))
            .parent(tree)
            .contents(*content_ref);
        let mut resources = p.resources();
        resources.fonts().pair(Name(b"F1"), type0);
        let used_images: Vec<usize> = page.images.iter().map(|i| i.3).collect();
        if !used_images.is_empty() {
            let mut xo = resources.x_objects();
            for i in used_images {
                xo.pair(Name(format!("Im{i}").as_bytes()), image_refs[i]);
            }
        }
        resources.finish();
        p.finish();
        pdf.stream(*content_ref, &stream);
    }
    Ok(pdf.finish())
}

/// Cards per A4 sheet: two columns of four.
pub const CARDS_PER_PAGE: usize = 8;

/// A4 sheets of QR cards, eight a page, with dashed cut lines.
pub fn qr_sheet(cards: &[Card]) -> Result<Vec<u8>, PrintError> {
    let font = Font::load()?;
    let (card_w, card_h) = (A4.0 / 2.0 - 30.0, A4.1 / 4.0 - 20.0);
    let mut pages = Vec::new();
    let mut images = Vec::new();
    for chunk in cards.chunks(CARDS_PER_PAGE) {
        let mut page = Page::default();
        for (i, card) in chunk.iter().enumerate() {
            let (col, row) = ((i % 2) as f32, (i / 2) as f32);
            let x = 30.0 + col * (card_w + 0.0);
            let y = A4.1 - 30.0 - (row + 1.0) * card_h - row * 10.0;
            page.boxes.push((x, y, card_w, card_h, true));
            let qr = 118.0;
            images.push(qr_image(&card.qr_payload)?);
            page.images
                .push((x + 10.0, y + (card_h - qr) / 2.0, qr, images.len() - 1));
            let tx = x + qr + 20.0;
            let tw = card_w - qr - 30.0;
            let mut ty = y + card_h - 30.0;
            for line in font.wrap(&card.title, 11.0, tw).into_iter().take(2) {
                page.texts.push((tx, ty, 11.0, line));
                ty -= 15.0;
            }
            ty -= 12.0;
            page.texts.push((tx, ty, 20.0, card.name.clone()));
            ty -= 24.0;
            page.texts.push((tx, ty, 12.0, card.place.clone()));
            ty -= 22.0;
            for line in font.wrap(&card.hint, 9.0, tw).into_iter().take(3) {
                page.texts.push((tx, ty, 9.0, line));
                ty -= 12.0;
            }
        }
        pages.push(page);
    }
    if pages.is_empty() {
        let mut page = Page::default();
        page.texts
            .push((60.0, A4.1 - 80.0, 14.0, "没有需要打印的卡片".into()));
        pages.push(page);
    }
    render(&pages, &images, "二维码签到卡")
}

/// A one-page (or longer) A4 form: a title, a two-column table of labelled
/// rows, signature lines and a footer.
pub fn form(doc: &Form) -> Result<Vec<u8>, PrintError> {
    let font = Font::load()?;
    let (left, right) = (60.0, A4.0 - 60.0);
    let label_w = 110.0;
    let size = 12.0;
    let leading = 18.0;
    let mut pages = vec![Page::default()];
    let mut y = A4.1 - 80.0;
    let title_w = font.width(&doc.title, 20.0);
    pages[0]
        .texts
        .push(((A4.0 - title_w) / 2.0, y, 20.0, doc.title.clone()));
    y -= 26.0;
    if !doc.subtitle.is_empty() {
        let w = font.width(&doc.subtitle, 10.0);
        pages[0]
            .texts
            .push(((A4.0 - w) / 2.0, y, 10.0, doc.subtitle.clone()));
        y -= 24.0;
    }
    for (label, value) in &doc.rows {
        let lines = font.wrap(value, size, right - left - label_w - 16.0);
        let height = (lines.len().max(1) as f32) * leading + 12.0;
        if y - height < 120.0 {
            pages.push(Page::default());
            y = A4.1 - 60.0;
        }
        let Some(page) = pages.last_mut() else { break };
        page.boxes
            .push((left, y - height, right - left, height, false));
        page.lines
            .push((left + label_w, y, left + label_w, y - height));
        page.texts.push((left + 8.0, y - 20.0, size, label.clone()));
        for (i, line) in lines.into_iter().enumerate() {
            page.texts.push((
                left + label_w + 8.0,
                y - 20.0 - i as f32 * leading,
                size,
                line,
            ));
        }
        y -= height;
    }
    y -= 40.0;
    for s in &doc.signatures {
        if y < 80.0 {
            pages.push(Page::default());
            y = A4.1 - 60.0;
        }
        let Some(page) = pages.last_mut() else { break };
        page.texts.push((left, y, size, format!("{s}：")));
        page.lines
            .push((left + 150.0, y - 3.0, left + 330.0, y - 3.0));
        page.texts.push((left + 350.0, y, size, "日期：".into()));
        page.lines.push((left + 390.0, y - 3.0, right, y - 3.0));
        y -= 36.0;
    }
    if !doc.footer.is_empty() {
        for (i, line) in font
            .wrap(&doc.footer, 9.0, right - left)
            .into_iter()
            .enumerate()
        {
            if let Some(page) = pages.last_mut() {
                page.texts.push((left, 50.0 - i as f32 * 12.0, 9.0, line));
            }
        }
    }
    render(&pages, &[], &doc.title)
}
