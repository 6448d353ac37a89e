//! Spreadsheets in the shapes communities keep: Chinese headers, a field
//! notes row, values as people type them ("户籍人口", "户主", "低保、独居老人").
//! Reading maps a row to a form the register checks; writing neutralises
//! cells a spreadsheet would take for a formula. Pure: rows in, rows out.

use crate::i18n::Lang;
use crate::register::{
    DisabilityCategory, PoliticalStatus, Relation, ResidenceType, ResidentForm, Tag, TagKind,
};

/// One column of a sheet: its header, the form field it fills, whether it
/// must be there, and the note printed under it in the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub header: &'static str,
    pub field: &'static str,
    pub required: bool,
    pub note: &'static str,
}

const fn col(
    header: &'static str,
    field: &'static str,
    required: bool,
    note: &'static str,
) -> Column {
    Column {
        header,
        field,
        required,
        note,
    }
}

/// The residents sheet (人口信息表).
pub const RESIDENT_COLUMNS: &[Column] = &[
    col("姓名", "name", true, "注：必填"),
    col(
        "身份证号",
        "id_number",
        true,
        "注：必填，18 位，末位可为 X；性别和出生日期从号码读出",
    ),
    col(
        "联系电话",
        "phone",
        false,
        "注：11 位手机号或区号-号码，可空",
    ),
    col("民族", "ethnicity", false, "注：如“汉族”，空则为汉族"),
    col(
        "人口类型",
        "residence_type",
        true,
        "注：户籍人口 / 常住人口 / 流动人口 / 人户分离",
    ),
    col(
        "与户主关系",
        "relation",
        true,
        "注：户主 / 配偶 / 子女 / 父母 / 孙子女 / 祖父母 / 兄弟姐妹 / 儿媳/女婿 / 其他",
    ),
    col(
        "政治面貌",
        "political_status",
        false,
        "注：中共党员 / 预备党员 / 共青团员 / 群众 / 民主党派/其他，空则为群众",
    ),
    col(
        "标签",
        "tags",
        false,
        "注：多个用顿号或分号分开，如“低保、独居老人”",
    ),
    col("楼栋", "building", true, "注：楼栋号，如 13"),
    col("单元", "unit", true, "注：单元号，如 2"),
    col("房号", "door", true, "注：如 301"),
];

/// The businesses sheet (商户信息表).
pub const BUSINESS_COLUMNS: &[Column] = &[
    col("名称", "name", true, "注：必填，如营业执照所载"),
    col("统一社会信用代码", "credit_code", true, "注：必填，18 位"),
    col("法定代表人", "legal_rep", true, "注：必填"),
    col("联系电话", "phone", false, "注：可空"),
    col("地址", "address", true, "注：必填"),
    col("开业日期", "opening_date", false, "注：如 2026-10-08"),
    col(
        "经营状态",
        "status",
        false,
        "注：在营 / 已迁出 / 已关闭，空则为在营",
    ),
    col(
        "政务App注册",
        "app_status",
        false,
        "注：已注册 / 未注册 / 无法注册，空则为未注册",
    ),
    col(
        "未注册原因",
        "app_reason",
        false,
        "注：无法注册时必填，如“身份证刚换领，需到服务窗口办理”",
    ),
    col("说明", "app_note", false, "注：可空"),
    col("楼栋", "building", true, "注：所在楼栋号，如 13（定网格）"),
    col("单元", "unit", false, "注：可空"),
    col("房号", "door", false, "注：可空；填写时须与单元一起"),
];

/// The buildings sheet (楼栋信息表): where each building stands and how
/// its units are laid out; its dwellings are numbered from that.
pub const BUILDING_COLUMNS: &[Column] = &[
    col("楼栋号", "number", true, "注：必填，社区内不重复，如 13"),
    col("名称", "name", false, "注：空则为“13栋”"),
    col("地址", "address", false, "注：如 和平路 88 号"),
    col("经度", "lon", true, "注：必填，如 117.2272（定所在网格）"),
    col("纬度", "lat", true, "注：必填，如 31.8206"),
    col("层数", "floors", true, "注：必填，1 至 200"),
    col(
        "用途",
        "building_use",
        false,
        "注：住宅 / 商业 / 商住 / 公共，空则为住宅",
    ),
    col("单元数", "units", true, "注：必填，1 至 50"),
    col(
        "每层户数",
        "dwellings_per_floor",
        true,
        "注：必填，1 至 20；房号按层编排，如 1203",
    ),
    col(
        "网格",
        "grid",
        false,
        "注：可空；填写时须与坐标所在网格一致",
    ),
];

/// A building form from a sheet row: every unit has the building's floors
/// and the row's dwellings per floor. Numbers that do not read as numbers
/// become values the check refuses, with its message.
pub fn building_form(map: &HeaderMap, row: &[String]) -> crate::org::BuildingForm {
    use crate::org::{BuildingUse, UnitForm};
    let get = |f: &str| map.get(BUILDING_COLUMNS, row, f).trim();
    let int = |f: &str| {
        get(f)
            .trim_end_matches(['层', '个', '户'])
            .parse::<i64>()
            .unwrap_or(0)
    };
    let real = |f: &str| get(f).parse::<f64>().unwrap_or(f64::NAN);
    let use_ = get("building_use");
    let floors = int("floors");
    let dwellings_per_floor = int("dwellings_per_floor");
    let units = usize::try_from(int("units")).unwrap_or(0);
    crate::org::BuildingForm {
        number: get("number").to_owned(),
        name: get("name").to_owned(),
        address: get("address").to_owned(),
        lon: real("lon"),
        lat: real("lat"),
        floors,
        building_use: if use_.is_empty() {
            BuildingUse::Residential.as_str().to_owned()
        } else {
            choice(
                use_,
                &BuildingUse::ALL,
                BuildingUse::as_str,
                BuildingUse::label,
            )
            .map(|u| u.as_str().to_owned())
            .unwrap_or_else(|| use_.to_owned())
        },
        // A wrong building floor count is reported once, on its own column.
        units: vec![
            UnitForm {
                floors: floors.clamp(1, 200),
                dwellings_per_floor,
            };
            units.min(crate::org::MAX_UNITS + 1)
        ],
    }
}

/// A date as people type it: 2026-10-08, 2026/10/08, 2026.10.08, or an
/// XLSX date with a time of day.
pub fn date_text(value: &str) -> String {
    let v = value.trim();
    let head: String = v.chars().take(10).collect();
    let normalised = head.replace(['/', '.'], "-");
    if normalised.len() == 10 && normalised.chars().nth(4) == Some('-') {
        normalised
    } else {
        v.to_owned()
    }
}

/// A business form from a sheet row; choice columns take codes or labels.
pub fn business_form(map: &HeaderMap, row: &[String]) -> crate::register::BusinessForm {
    use crate::register::{AppReason, AppStatus, BusinessStatus};
    let get = |f: &str| map.get(BUSINESS_COLUMNS, row, f);
    let or_code = |v: &str, parsed: Option<&'static str>, default: &'static str| {
        if v.is_empty() {
            default.to_owned()
        } else {
            parsed.map(str::to_owned).unwrap_or_else(|| v.to_owned())
        }
    };
    let status = get("status");
    let app = get("app_status");
    let reason = get("app_reason");
    crate::register::BusinessForm {
        name: get("name").to_owned(),
        credit_code: get("credit_code").to_owned(),
        legal_rep: get("legal_rep").to_owned(),
        phone: Some(get("phone").to_owned()).filter(|p| !p.is_empty()),
        address: get("address").to_owned(),
        opening_date: Some(date_text(get("opening_date"))).filter(|d| !d.is_empty()),
        status: or_code(
            status,
            choice(
                status,
                BusinessStatus::ALL,
                BusinessStatus::as_str,
                BusinessStatus::label,
            )
            .map(BusinessStatus::as_str),
            "open",
        ),
        app_status: or_code(
            app,
            choice(app, AppStatus::ALL, AppStatus::as_str, AppStatus::label).map(AppStatus::as_str),
            "pending",
        ),
        app_reason: Some(reason).filter(|r| !r.is_empty()).map(|r| {
            choice(r, AppReason::ALL, AppReason::as_str, AppReason::label)
                .map(|x| x.as_str().to_owned())
                .unwrap_or_else(|| r.to_owned())
        }),
        app_note: get("app_note").to_owned(),
    }
}

/// Where each column is in a sheet whose first row is `headers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMap {
    /// Index of each of `columns`, `None` when absent (and optional).
    pub positions: Vec<Option<usize>>,
}

/// Why a header row is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    Missing(&'static str),
    Unknown(String),
    Twice(String),
}

impl HeaderError {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (HeaderError::Missing(h), Lang::Zh) => format!("缺少必填列“{h}”"),
            (HeaderError::Missing(h), Lang::En) => format!("required column {h:?} is missing"),
            (HeaderError::Unknown(h), Lang::Zh) => format!("不认识的列“{h}”"),
            (HeaderError::Unknown(h), Lang::En) => format!("unknown column {h:?}"),
            (HeaderError::Twice(h), Lang::Zh) => format!("列“{h}”出现两次"),
            (HeaderError::Twice(h), Lang::En) => format!("column {h:?} appears twice"),
        }
    }
}

/// Maps a header row (spaces and a `*` marking required columns ignored).
pub fn map_headers(columns: &[Column], headers: &[String]) -> Result<HeaderMap, Vec<HeaderError>> {
    let mut errors = Vec::new();
    let mut positions = vec![None; columns.len()];
    for (i, raw) in headers.iter().enumerate() {
        let h: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '*')
            .collect();
        if h.is_empty() {
            continue;
        }
        match columns.iter().position(|c| c.header == h) {
            Some(k) if positions[k].is_some() => errors.push(HeaderError::Twice(h)),
            Some(k) => positions[k] = Some(i),
            None => errors.push(HeaderError::Unknown(h)),
        }
    }
    for (c, p) in columns.iter().zip(&positions) {
        if c.required && p.is_none() {
            errors.push(HeaderError::Missing(c.header));
        }
    }
    if errors.is_empty() {
        Ok(HeaderMap { positions })
    } else {
        Err(errors)
    }
}

impl HeaderMap {
    /// The trimmed cell of `field` in `row` (empty when absent).
    pub fn get<'a>(&self, columns: &[Column], row: &'a [String], field: &str) -> &'a str {
        columns
            .iter()
            .position(|c| c.field == field)
            .and_then(|k| self.positions[k])
            .and_then(|i| row.get(i))
            .map(|s| s.trim())
            .unwrap_or("")
    }
}

/// Whether a row is the template's notes row (every filled cell "注：…").
pub fn is_notes_row(row: &[String]) -> bool {
    let filled: Vec<&String> = row.iter().filter(|c| !c.trim().is_empty()).collect();
    !filled.is_empty() && filled.iter().all(|c| c.trim().starts_with("注："))
}

/// A stored code from a code or its Chinese or English label.
pub fn choice<T: Copy>(
    value: &str,
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T, Lang) -> &'static str,
) -> Option<T> {
    let v = value.trim();
    all.iter().copied().find(|t| {
        code(*t) == v || label(*t, Lang::Zh) == v || label(*t, Lang::En).eq_ignore_ascii_case(v)
    })
}

/// Tags from "低保、独居老人" (Chinese labels or codes, separated by 、 ; ，
/// , or spaces); typed sub-records get their defaults.
pub fn tags(value: &str) -> Result<Vec<Tag>, String> {
    let mut out = Vec::new();
    for part in value
        .split(['、', ';', '；', ',', '，', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let kind = choice(part, TagKind::ALL, TagKind::as_str, TagKind::label)
            .or(match part {
                "五保" => Some(TagKind::FiveGuarantees),
                "低保户" => Some(TagKind::Dibao),
                "残疾人" => Some(TagKind::Disabled),
                _ => None,
            })
            .ok_or_else(|| format!("不认识的标签“{part}”"))?;
        out.push(match kind {
            TagKind::FiveGuarantees => Tag::FiveGuarantees,
            TagKind::PovertyAlleviated => Tag::PovertyAlleviated { year: None },
            TagKind::Dibao => Tag::Dibao { certificate: None },
            TagKind::Disabled => Tag::Disabled {
                category: DisabilityCategory::Physical,
                grade: 4,
            },
            TagKind::ElderlyAlone => Tag::ElderlyAlone,
            TagKind::EmptyNest => Tag::EmptyNest,
            TagKind::LeftBehindChild => Tag::LeftBehindChild { guardian: None },
            TagKind::PartyMemberInDifficulty => Tag::PartyMemberInDifficulty {
                difficulty: String::new(),
            },
            TagKind::Veteran => Tag::Veteran,
            TagKind::CommunityCorrection => Tag::CommunityCorrection,
            TagKind::SeriousIllness => Tag::SeriousIllness { illness: None },
        });
    }
    Ok(out)
}

/// The Chinese labels of tags, as a sheet shows them.
pub fn tag_labels(tags: &[Tag]) -> String {
    tags.iter()
        .map(|t| t.kind().label(Lang::Zh))
        .collect::<Vec<_>>()
        .join("、")
}

/// A resident form from a sheet row; choice columns take codes or labels.
/// A value that is no choice is passed through as typed, so that the
/// form's check names it; unknown tags are left out and named beside the
/// form, so that every problem of the row is reported at once.
pub fn resident_form(map: &HeaderMap, row: &[String]) -> (ResidentForm, Option<String>) {
    let get = |f: &str| map.get(RESIDENT_COLUMNS, row, f);
    let residence = get("residence_type");
    let relation = get("relation");
    let political = get("political_status");
    let (tags, tag_error) = match tags(get("tags")) {
        Ok(t) => (t, None),
        Err(m) => (Vec::new(), Some(m)),
    };
    let form = ResidentForm {
        name: get("name").to_owned(),
        id_number: get("id_number").to_owned(),
        phone: Some(get("phone").to_owned()).filter(|p| !p.is_empty()),
        ethnicity: Some(get("ethnicity"))
            .filter(|e| !e.is_empty())
            .unwrap_or("汉族")
            .to_owned(),
        residence_type: choice(
            residence,
            ResidenceType::ALL,
            ResidenceType::as_str,
            ResidenceType::label,
        )
        .map(|r| r.as_str().to_owned())
        .unwrap_or_else(|| residence.to_owned()),
        relation: choice(relation, Relation::ALL, Relation::as_str, Relation::label)
            .map(|r| r.as_str().to_owned())
            .unwrap_or_else(|| relation.to_owned()),
        political_status: if political.is_empty() {
            PoliticalStatus::Masses.as_str().to_owned()
        } else {
            choice(
                political,
                PoliticalStatus::ALL,
                PoliticalStatus::as_str,
                PoliticalStatus::label,
            )
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| political.to_owned())
        },
        tags,
    };
    (form, tag_error)
}

/// A cell as written to a spreadsheet: text that a spreadsheet would read
/// as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage
/// return) is prefixed with an apostrophe, so it stays text.
pub fn neutralize(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn headers_map_with_stars_spaces_and_order() {
        let headers = row(&[
            "*姓名",
            "身份证号",
            "人口类型",
            "与户主关系",
            "楼栋",
            " 单元",
            "房号",
            "标签",
        ]);
        let map = map_headers(RESIDENT_COLUMNS, &headers).unwrap();
        let r = row(&[
            "李明芳",
            "x",
            "户籍人口",
            "户主",
            "13",
            "2",
            "301",
            "低保、独居老人",
        ]);
        assert_eq!(map.get(RESIDENT_COLUMNS, &r, "unit"), "2");
        assert_eq!(map.get(RESIDENT_COLUMNS, &r, "phone"), "");
        let bad = map_headers(RESIDENT_COLUMNS, &row(&["姓名", "姓名", "年龄"])).unwrap_err();
        assert!(bad.contains(&HeaderError::Twice("姓名".into())));
        assert!(bad.contains(&HeaderError::Unknown("年龄".into())));
        assert!(bad.contains(&HeaderError::Missing("身份证号")));
    }

    #[test]
    fn labels_codes_and_tags() {
        assert_eq!(
            choice(
                "户籍人口",
                ResidenceType::ALL,
                ResidenceType::as_str,
                ResidenceType::label
            ),
            Some(ResidenceType::Registered)
        );
        assert_eq!(
            choice(
                "floating",
                ResidenceType::ALL,
                ResidenceType::as_str,
                ResidenceType::label
            ),
            Some(ResidenceType::Floating)
        );
        let t = tags("低保、独居老人；残疾").unwrap();
        assert_eq!(tag_labels(&t), "低保、独居老人、残疾");
        assert!(tags("土豪").is_err());
        assert!(is_notes_row(&row(&["注：必填", "", "注：可空"])));
        assert!(!is_notes_row(&row(&["李明芳", "注：x"])));
    }

    #[test]
    fn building_rows_become_checked_buildings_with_numbered_doors() {
        let headers = row(&[
            "楼栋号",
            "经度",
            "纬度",
            "层数",
            "用途",
            "单元数",
            "每层户数",
        ]);
        let map = map_headers(BUILDING_COLUMNS, &headers).unwrap();
        let b = building_form(
            &map,
            &row(&["13栋", "117.2272", "31.8206", "12层", "商住", "2", "3"]),
        )
        .check()
        .unwrap();
        assert_eq!((b.number.as_str(), b.name.as_str()), ("13", "13栋"));
        assert_eq!(b.building_use, crate::org::BuildingUse::Mixed);
        let doors = b.dwellings();
        assert_eq!(doors.len(), 2 * 12 * 3);
        assert_eq!(doors[0].2, "101");
        assert_eq!(doors[0].3, crate::register::DwellingUse::Commercial);
        let top = doors.last().unwrap();
        assert_eq!((top.0, top.1, top.2.as_str()), (2, 12, "1203"));
        assert_eq!(top.3, crate::register::DwellingUse::Own);
        // Every wrong value named by its field.
        let errors = building_form(&map, &row(&["", "东经", "31.8", "0", "仓库", "99", "30"]))
            .check()
            .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["number", "building_use", "floors", "units", "location"]
        );
        // 50 units × 200 floors × 20 doors is not a building.
        let tower = building_form(&map, &row(&["T1", "117.2", "31.8", "200", "", "50", "20"]))
            .check()
            .unwrap_err();
        assert_eq!(tower[0].field, "units");
        assert!(tower[0].message(Lang::Zh).contains("5000"));
    }

    #[test]
    fn business_rows_and_dates() {
        let headers = row(&[
            "名称",
            "统一社会信用代码",
            "法定代表人",
            "地址",
            "开业日期",
            "经营状态",
            "政务App注册",
            "未注册原因",
            "楼栋",
        ]);
        let map = map_headers(BUSINESS_COLUMNS, &headers).unwrap();
        let f = business_form(
            &map,
            &row(&[
                "好再来面馆",
                "91340100MA2N0X1234",
                "王建国",
                "和平路 26 号",
                "2026/10/08",
                "在营",
                "无法注册",
                "身份证刚换领，需到服务窗口办理",
                "13",
            ]),
        );
        assert_eq!(f.opening_date.as_deref(), Some("2026-10-08"));
        assert_eq!(
            (f.status.as_str(), f.app_status.as_str()),
            ("open", "unable")
        );
        assert_eq!(f.app_reason.as_deref(), Some("id_card_replaced"));
        assert_eq!(date_text("2026-10-08 00:00:00"), "2026-10-08");
        assert_eq!(date_text("昨天"), "昨天");
    }

    #[test]
    fn formulas_are_neutralised() {
        for bad in ["=1+1", "+86", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(neutralize(bad).starts_with('\''), "{bad}");
        }
        assert_eq!(neutralize("李明芳"), "李明芳");
        assert_eq!(neutralize(""), "");
    }
}
