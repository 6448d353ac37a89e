//! Spreadsheet files as communities exchange them: CSV (UTF-8, with or
//! without BOM, or GB18030 as Excel saves it in China) and XLSX, read into a
//! plain table of text; XLSX and CSV written from one. Cells are read as
//! values: formulas are never evaluated (an XLSX cell gives its saved
//! value), macros are never run. Limits guard against oversized files and
//! zip bombs before anything is decompressed.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

/// Rows of text; the first is the header row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes a file may have.
    pub max_bytes: usize,
    /// Most bytes an XLSX may unpack to, in all.
    pub max_unpacked: u64,
    /// Most rows, the header included.
    pub max_rows: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bytes: 256 * 1024 * 1024,
            max_unpacked: 512 * 1024 * 1024,
            max_rows: 2_000_001,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SheetError {
    #[error("the file is {size} bytes, more than {max}")]
    TooLarge { size: usize, max: usize },
    #[error("the workbook would unpack to more than {max} bytes")]
    Bomb { max: u64 },
    #[error("the file has more than {max} rows")]
    TooManyRows { max: usize },
    #[error("the file cannot be read as CSV or XLSX: {0}")]
    Unreadable(String),
    #[error("the workbook has no sheet")]
    NoSheet,
}

impl SheetError {
    pub fn zh(&self) -> String {
        match self {
            SheetError::TooLarge { max, .. } => format!("文件超过 {} MB", max / 1024 / 1024),
            SheetError::Bomb { .. } => "工作簿解压后过大，已拒绝".into(),
            SheetError::TooManyRows { max } => format!("文件超过 {} 行", max - 1),
            SheetError::Unreadable(_) => "无法读取文件，请上传 CSV 或 XLSX".into(),
            SheetError::NoSheet => "工作簿中没有工作表".into(),
        }
    }
}

/// Reads a CSV or XLSX file (XLSX by its zip signature).
pub fn read(bytes: &[u8], limits: Limits) -> Result<Table, SheetError> {
    if bytes.len() > limits.max_bytes {
        return Err(SheetError::TooLarge {
            size: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let table = if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes, limits)?
    } else {
        read_csv(bytes, limits)?
    };
    Ok(table)
}

fn read_csv(bytes: &[u8], limits: Limits) -> Result<Table, SheetError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => {
            let (t, _, bad) = encoding_rs::GB18030.decode(bytes);
            if bad {
                return Err(SheetError::Unreadable("neither UTF-8 nor GB18030".into()));
            }
            t
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| SheetError::Unreadable(e.to_string()))?;
        if rows.len() >= limits.max_rows {
            return Err(SheetError::TooManyRows {
                max: limits.max_rows,
            });
        }
        rows.push(record.iter().map(str::to_owned).collect());
    }
    Ok(Table { rows })
}

fn read_xlsx(bytes: &[u8], limits: Limits) -> Result<Table, SheetError> {
    // Sizes from the central directory, before anything is unpacked.
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| SheetError::Unreadable(e.to_string()))?;
    let mut unpacked: u64 = 0;
    for i in 0..archive.len() {
        let size = archive
            .by_index_raw(i)
            .map_err(|e| SheetError::Unreadable(e.to_string()))?
            .size();
        unpacked = unpacked.saturating_add(size);
        if unpacked > limits.max_unpacked {
            return Err(SheetError::Bomb {
                max: limits.max_unpacked,
            });
        }
    }
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| SheetError::Unreadable(e.to_string()))?;
    let name = book
        .sheet_names()
        .first()
        .cloned()
        .ok_or(SheetError::NoSheet)?;
    let range = book
        .worksheet_range(&name)
        .map_err(|e| SheetError::Unreadable(e.to_string()))?;
    if range.height() > limits.max_rows {
        return Err(SheetError::TooManyRows {
            max: limits.max_rows,
        });
    }
    let rows = range
        .rows()
        .map(|r| r.iter().map(cell_text).collect())
        .collect();
    Ok(Table { rows })
}

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => d.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
        #[allow(unreachable_patterns)]
        _ => String::new(),
    }
}

/// An XLSX workbook of one sheet: every cell as text (so ID numbers keep
/// their digits), the header row bold, columns sized to their contents.
pub fn write_xlsx(sheet: &str, rows: &[Vec<String>]) -> Result<Vec<u8>, SheetError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    let fail = |e: rust_xlsxwriter::XlsxError| SheetError::Unreadable(e.to_string());
    ws.set_name(sheet).map_err(fail)?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let mut widths: Vec<usize> = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let format = if r == 0 { &bold } else { &text };
            ws.write_string_with_format(r as u32, c as u16, cell, format)
                .map_err(fail)?;
            let w = cell
                .chars()
                .map(|ch| if ch.is_ascii() { 1 } else { 2 })
                .sum::<usize>();
            if widths.len() <= c {
                widths.resize(c + 1, 0);
            }
            widths[c] = widths[c].max(w);
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, (*w as f64 + 2.0).min(60.0))
            .map_err(fail)?;
    }
    book.save_to_buffer().map_err(fail)
}

/// CSV with a UTF-8 BOM, so that Excel opens it in the right encoding.
pub fn write_csv(rows: &[Vec<String>]) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    let mut w = csv::Writer::from_writer(&mut out);
    for r in rows {
        let _ = w.write_record(r);
    }
    let _ = w.flush();
    drop(w);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Vec<Vec<String>> {
        vec![
            vec!["姓名".into(), "身份证号".into()],
            vec!["李明芳".into(), "34017119850612002X".into()],
            vec!["'=1+1".into(), "".into()],
        ]
    }

    #[test]
    fn xlsx_and_csv_round_trip_as_text() {
        let t = table();
        let x = write_xlsx("人口", &t).unwrap();
        assert_eq!(read(&x, Limits::default()).unwrap().rows[..2], t[..2]);
        let c = write_csv(&t);
        assert_eq!(read(&c, Limits::default()).unwrap().rows, t);
    }

    #[test]
    fn gb18030_csv_is_read() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("姓名,人口类型\n李明芳,户籍人口\n");
        let t = read(&bytes, Limits::default()).unwrap();
        assert_eq!(t.rows[1], vec!["李明芳".to_owned(), "户籍人口".to_owned()]);
    }

    #[test]
    fn limits_refuse_before_reading() {
        let small = Limits {
            max_bytes: 10,
            ..Limits::default()
        };
        assert!(matches!(
            read(&write_csv(&table()), small),
            Err(SheetError::TooLarge { .. })
        ));
        let few = Limits {
            max_rows: 2,
            ..Limits::default()
        };
        assert!(matches!(
            read(&write_csv(&table()), few),
            Err(SheetError::TooManyRows { .. })
        ));
        let x = write_xlsx("人口", &table()).unwrap();
        let tight = Limits {
            max_unpacked: 1_000,
            ..Limits::default()
        };
        assert!(matches!(read(&x, tight), Err(SheetError::Bomb { .. })));
        assert!(matches!(
            read(b"PK\x03\x04garbage", Limits::default()),
            Err(SheetError::Unreadable(_))
        ));
    }
}
