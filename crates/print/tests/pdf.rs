//! The printed PDFs read back: their text through the embedded font's
//! ToUnicode map, their QR images decoded by a QR reader.

use lopdf::{Document, Object};
use wangge_print::{Card, Form, form, qr_sheet};

fn cards(n: usize) -> Vec<Card> {
    (0..n)
        .map(|i| Card {
            title: "核酸检测演练预登记签到卡".into(),
            name: format!("李*芳{i}"),
            place: format!("13栋2单元{}0{}", i / 2 + 1, i % 2 + 1),
            hint: "请携带此卡到现场，由工作人员扫码签到".into(),
            qr_payload: format!("http://wangge.local/q/token-{i:04}-AbCdEfGhIjKl"),
        })
        .collect()
}

fn text_of(doc: &Document) -> String {
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).expect("text extracts")
}

/// Every image XObject as `(width, height, grey samples)`.
fn images(doc: &Document) -> Vec<(usize, usize, Vec<u8>)> {
    let mut out = Vec::new();
    for (_, obj) in doc.objects.iter() {
        if let Object::Stream(s) = obj
            && s.dict.get(b"Subtype").and_then(|o| o.as_name()).ok() == Some(b"Image".as_slice())
        {
            let w = s.dict.get(b"Width").unwrap().as_i64().unwrap() as usize;
            let h = s.dict.get(b"Height").unwrap().as_i64().unwrap() as usize;
            out.push((w, h, s.content.clone()));
        }
    }
    out
}

fn decode_qr((w, h, samples): &(usize, usize, Vec<u8>)) -> String {
    // Scale up (as a printer would) so the reader sees modules, not pixels.
    let k = 8;
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w * k, h * k, |x, y| {
        samples[(y / k) * w + x / k]
    });
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one code per image");
    grids[0].decode().expect("the code decodes").1
}

#[test]
fn a_sheet_of_cards_reads_back_and_scans() {
    let cards = cards(11);
    let bytes = qr_sheet(&cards).unwrap();
    let doc = Document::load_mem(&bytes).unwrap();
    assert_eq!(doc.get_pages().len(), 2, "8 cards a page");
    let text = text_of(&doc);
    for c in &cards {
        assert!(text.contains(&c.name), "{} in {text}", c.name);
        assert!(text.contains(&c.place), "{} in {text}", c.place);
    }
    // The title wraps onto two lines of the card.
    assert!(text.replace('\n', "").contains("核酸检测演练预登记签到卡"));
    let mut scanned: Vec<String> = images(&doc).iter().map(decode_qr).collect();
    scanned.sort();
    let mut want: Vec<String> = cards.iter().map(|c| c.qr_payload.clone()).collect();
    want.sort();
    assert_eq!(scanned, want);
    // Only the glyphs used are embedded: far below the 3.4 MB font.
    assert!(bytes.len() < 400_000, "{} bytes", bytes.len());
}

#[test]
fn an_empty_sheet_says_so() {
    let doc = Document::load_mem(&qr_sheet(&[]).unwrap()).unwrap();
    assert!(text_of(&doc).contains("没有需要打印的卡片"));
}

#[test]
fn a_form_wraps_long_values_over_pages() {
    let long = "奶奶卧病在床，独自抚养两个孙女，".repeat(40);
    let f = Form {
        title: "帮扶推荐表".into(),
        subtitle: "和平社区 · 第一网格".into(),
        rows: (0..12)
            .map(|i| {
                (
                    format!("项目{i}"),
                    if i == 5 {
                        long.clone()
                    } else {
                        format!("内容{i}")
                    },
                )
            })
            .collect(),
        signatures: vec!["推荐人（网格员）".into(), "社区审核".into()],
        footer: "本表由 wangge 生成".into(),
    };
    let bytes = form(&f).unwrap();
    let doc = Document::load_mem(&bytes).unwrap();
    assert!(doc.get_pages().len() >= 2);
    let text = text_of(&doc);
    assert!(text.contains("帮扶推荐表"));
    assert!(text.contains("内容11"));
    assert!(text.contains("社区审核"));
    assert!(text.contains("独自抚养两个孙女"));
}
