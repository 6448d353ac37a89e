//! The register a grid worker keeps: dwellings, households, residents and
//! businesses, with the validation of what people type into it.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::creditcode::CreditCode;
use crate::i18n::{Lang, Localized};
use crate::idnumber::{Gender, IdNumber};
use crate::org::Id;
use crate::phone::Phone;

/// Below this age a resident is a minor whose record needs the stricter
/// permission (see `policy`).
pub const MINOR_AGE: i16 = 14;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal / $zh:literal / $en:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable text stored and sent over the API.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }

            pub fn label(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $(($name::$variant, Lang::Zh) => $zh, ($name::$variant, Lang::En) => $en,)+
                }
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(
    /// Use of a dwelling (房屋用途).
    DwellingUse {
        Own = "own" / "自住" / "owner-occupied",
        Rent = "rent" / "出租" / "rented",
        Vacant = "vacant" / "空置" / "vacant",
        Commercial = "commercial" / "商用" / "commercial",
    }
);

text_enum!(
    /// Residence type (人口类型).
    ResidenceType {
        Registered = "registered" / "户籍人口" / "registered",
        Resident = "resident" / "常住人口" / "long-term resident",
        Floating = "floating" / "流动人口" / "floating",
        Separated = "separated" / "人户分离" / "registered elsewhere",
    }
);

text_enum!(
    /// Relation to the head of household (与户主关系).
    Relation {
        Head = "head" / "户主" / "head of household",
        Spouse = "spouse" / "配偶" / "spouse",
        Child = "child" / "子女" / "child",
        Parent = "parent" / "父母" / "parent",
        Grandchild = "grandchild" / "孙子女" / "grandchild",
        Grandparent = "grandparent" / "祖父母" / "grandparent",
        Sibling = "sibling" / "兄弟姐妹" / "sibling",
        InLaw = "in_law" / "儿媳/女婿" / "child-in-law",
        Other = "other" / "其他" / "other",
    }
);

text_enum!(
    /// Political status (政治面貌).
    PoliticalStatus {
        PartyMember = "party_member" / "中共党员" / "Party member",
        ProbationaryMember = "probationary_member" / "预备党员" / "probationary Party member",
        LeagueMember = "league_member" / "共青团员" / "League member",
        Masses = "masses" / "群众" / "none",
        Other = "other" / "民主党派/其他" / "other",
    }
);

text_enum!(
    /// Status of a business (经营状态).
    BusinessStatus {
        Open = "open" / "在营" / "open",
        Moved = "moved" / "已迁出" / "moved",
        Closed = "closed" / "已关闭" / "closed",
    }
);

text_enum!(
    /// Registration of a business's legal person on the city's service app.
    AppStatus {
        Registered = "registered" / "已注册" / "registered",
        Pending = "pending" / "未注册" / "not yet",
        Unable = "unable" / "无法注册" / "cannot register",
    }
);

text_enum!(
    /// Why a legal person could not register, and what to do about it.
    AppReason {
        IdCardReplaced = "id_card_replaced" / "身份证刚换领，需到服务窗口办理" / "ID card just replaced: go to the service counter",
        OwnerAway = "owner_away" / "法人不在本地，电话指导注册" / "legal person away: guide by phone",
        BusinessMoved = "business_moved" / "商户已迁出" / "business moved",
        NoSmartphone = "no_smartphone" / "无智能手机" / "no smartphone",
        Other = "other" / "其他原因" / "other",
    }
);

text_enum!(
    /// Tags on a resident (人员标签). Some carry a typed sub-record.
    TagKind {
        FiveGuarantees = "five_guarantees" / "五保户" / "five-guarantees household",
        PovertyAlleviated = "poverty_alleviated" / "脱贫户" / "lifted out of poverty",
        Dibao = "dibao" / "低保" / "minimum living allowance",
        Disabled = "disabled" / "残疾" / "disabled",
        ElderlyAlone = "elderly_alone" / "独居老人" / "elderly living alone",
        EmptyNest = "empty_nest" / "空巢" / "empty nest",
        LeftBehindChild = "left_behind_child" / "留守儿童" / "left-behind child",
        PartyMemberInDifficulty = "party_member_in_difficulty" / "困难党员" / "Party member in difficulty",
        Veteran = "veteran" / "优抚对象" / "entitled veteran",
        CommunityCorrection = "community_correction" / "社区矫正" / "under community correction",
        SeriousIllness = "serious_illness" / "大病" / "serious illness",
    }
);

/// A tag with the details its kind records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Tag {
    FiveGuarantees,
    PovertyAlleviated {
        year: Option<i16>,
    },
    Dibao {
        certificate: Option<String>,
    },
    Disabled {
        category: DisabilityCategory,
        grade: u8,
    },
    ElderlyAlone,
    EmptyNest,
    LeftBehindChild {
        guardian: Option<String>,
    },
    PartyMemberInDifficulty {
        difficulty: String,
    },
    Veteran,
    CommunityCorrection,
    SeriousIllness {
        illness: Option<String>,
    },
}

impl Tag {
    pub fn kind(&self) -> TagKind {
        match self {
            Tag::FiveGuarantees => TagKind::FiveGuarantees,
            Tag::PovertyAlleviated { .. } => TagKind::PovertyAlleviated,
            Tag::Dibao { .. } => TagKind::Dibao,
            Tag::Disabled { .. } => TagKind::Disabled,
            Tag::ElderlyAlone => TagKind::ElderlyAlone,
            Tag::EmptyNest => TagKind::EmptyNest,
            Tag::LeftBehindChild { .. } => TagKind::LeftBehindChild,
            Tag::PartyMemberInDifficulty { .. } => TagKind::PartyMemberInDifficulty,
            Tag::Veteran => TagKind::Veteran,
            Tag::CommunityCorrection => TagKind::CommunityCorrection,
            Tag::SeriousIllness { .. } => TagKind::SeriousIllness,
        }
    }
}

text_enum!(
    /// Disability categories of the disability certificate (残疾类别).
    DisabilityCategory {
        Visual = "visual" / "视力残疾" / "visual",
        Hearing = "hearing" / "听力残疾" / "hearing",
        Speech = "speech" / "言语残疾" / "speech",
        Physical = "physical" / "肢体残疾" / "physical",
        Intellectual = "intellectual" / "智力残疾" / "intellectual",
        Mental = "mental" / "精神残疾" / "mental",
        Multiple = "multiple" / "多重残疾" / "multiple",
    }
);

/// The 56 ethnic groups (民族), as written on ID cards, and "other".
pub const ETHNICITIES: &[&str] = &[
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
    "其他",
];

/// A problem with one field of a form or request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message_en: String,
    pub message_zh: String,
}

impl FieldError {
    pub fn new(field: &'static str, en: impl Into<String>, zh: impl Into<String>) -> Self {
        Self {
            field,
            message_en: en.into(),
            message_zh: zh.into(),
        }
    }

    fn from_localized(field: &'static str, e: &impl Localized) -> Self {
        Self::new(field, e.localized(Lang::En), e.localized(Lang::Zh))
    }

    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.message_zh,
            Lang::En => &self.message_en,
        }
    }
}

/// Collects field errors while a form is checked, so all are reported at once.
#[derive(Debug, Default)]
pub struct Checker {
    pub errors: Vec<FieldError>,
}

impl Checker {
    pub fn required_text(&mut self, field: &'static str, value: &str, max_chars: usize) -> String {
        let v = value.trim();
        if v.is_empty() {
            self.errors.push(FieldError::new(field, "required", "必填"));
        } else if v.chars().count() > max_chars {
            self.errors.push(FieldError::new(
                field,
                format!("at most {max_chars} characters"),
                format!("最多 {max_chars} 个字"),
            ));
        }
        v.to_owned()
    }

    pub fn optional_text(
        &mut self,
        field: &'static str,
        value: Option<&str>,
        max_chars: usize,
    ) -> Option<String> {
        let v = value.map(str::trim).filter(|v| !v.is_empty())?;
        if v.chars().count() > max_chars {
            self.errors.push(FieldError::new(
                field,
                format!("at most {max_chars} characters"),
                format!("最多 {max_chars} 个字"),
            ));
        }
        Some(v.to_owned())
    }

    pub fn choice<T>(
        &mut self,
        field: &'static str,
        value: &str,
        parse: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let parsed = parse(value.trim());
        if parsed.is_none() {
            self.errors.push(FieldError::new(
                field,
                format!("{value:?} is not one of the allowed values"),
                format!("“{value}”不是可选的值"),
            ));
        }
        parsed
    }

    pub fn id_number(&mut self, field: &'static str, value: &str) -> Option<IdNumber> {
        IdNumber::parse(value)
            .map_err(|e| self.errors.push(FieldError::from_localized(field, &e)))
            .ok()
    }

    pub fn phone(&mut self, field: &'static str, value: Option<&str>) -> Option<Phone> {
        let v = value.map(str::trim).filter(|v| !v.is_empty())?;
        Phone::parse(v)
            .map_err(|e| self.errors.push(FieldError::from_localized(field, &e)))
            .ok()
    }

    pub fn credit_code(&mut self, field: &'static str, value: &str) -> Option<CreditCode> {
        CreditCode::parse(value)
            .map_err(|e| self.errors.push(FieldError::from_localized(field, &e)))
            .ok()
    }

    /// An optional `YYYY-MM-DD` date, not after `today`.
    pub fn past_date(
        &mut self,
        field: &'static str,
        value: Option<&str>,
        today: Date,
    ) -> Option<Date> {
        let v = value.map(str::trim).filter(|v| !v.is_empty())?;
        match v.parse::<Date>() {
            Ok(d) if d <= today => Some(d),
            Ok(_) => {
                self.errors.push(FieldError::new(
                    field,
                    "may not be in the future",
                    "不能晚于今天",
                ));
                None
            }
            Err(_) => {
                self.errors.push(FieldError::new(
                    field,
                    format!("{v:?} is not a date (YYYY-MM-DD)"),
                    format!("“{v}”不是有效日期（年-月-日）"),
                ));
                None
            }
        }
    }

    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, Vec<FieldError>> {
        if self.errors.is_empty() {
            value().ok_or_else(Vec::new)
        } else {
            Err(self.errors)
        }
    }
}

/// A resident as typed into a form or sent to the API: all text.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResidentForm {
    pub name: String,
    pub id_number: String,
    pub phone: Option<String>,
    pub ethnicity: String,
    pub residence_type: String,
    pub relation: String,
    pub political_status: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

/// A checked resident, ready to store.
#[derive(Debug, Clone)]
pub struct ResidentInput {
    pub name: String,
    pub id_number: IdNumber,
    pub gender: Gender,
    pub birth_date: Date,
    pub phone: Option<Phone>,
    pub ethnicity: String,
    pub residence_type: ResidenceType,
    pub relation: Relation,
    pub political_status: PoliticalStatus,
    pub tags: Vec<Tag>,
}

impl ResidentForm {
    /// Checks every field against `today`; every problem is reported.
    pub fn check(&self, today: Date) -> Result<ResidentInput, Vec<FieldError>> {
        let mut c = Checker::default();
        let name = c.required_text("name", &self.name, 40);
        let id = c.id_number("id_number", &self.id_number);
        if let Some(id) = &id
            && id.birth_date() > today
        {
            c.errors.push(FieldError::new(
                "id_number",
                "the birth date in this ID number is in the future",
                "身份证号码中的出生日期晚于今天",
            ));
        }
        let phone = c.phone("phone", self.phone.as_deref());
        let ethnicity = self.ethnicity.trim().to_owned();
        if !ETHNICITIES.contains(&ethnicity.as_str()) {
            c.errors.push(FieldError::new(
                "ethnicity",
                format!("{ethnicity:?} is not one of the 56 ethnic groups"),
                format!("“{ethnicity}”不是 56 个民族之一"),
            ));
        }
        let residence_type = c.choice("residence_type", &self.residence_type, ResidenceType::parse);
        let relation = c.choice("relation", &self.relation, Relation::parse);
        let political_status = c.choice(
            "political_status",
            &self.political_status,
            PoliticalStatus::parse,
        );
        let mut kinds: Vec<TagKind> = self.tags.iter().map(Tag::kind).collect();
        kinds.sort_by_key(|k| k.as_str());
        kinds.dedup();
        if kinds.len() != self.tags.len() {
            c.errors
                .push(FieldError::new("tags", "a tag is given twice", "标签重复"));
        }
        for t in &self.tags {
            if let Tag::Disabled { grade, .. } = t
                && !(1..=4).contains(grade)
            {
                c.errors.push(FieldError::new(
                    "tags",
                    "disability grade is 1 to 4",
                    "残疾等级为 1 至 4 级",
                ));
            }
        }
        let tags = self.tags.clone();
        c.finish(|| {
            let id = id?;
            Some(ResidentInput {
                name,
                gender: id.gender(),
                birth_date: id.birth_date(),
                id_number: id,
                phone,
                ethnicity,
                residence_type: residence_type?,
                relation: relation?,
                political_status: political_status?,
                tags,
            })
        })
    }
}

/// A resident as stored, with sensitive fields masked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resident {
    pub id: Id,
    pub household_id: Id,
    pub grid_id: Id,
    pub name: String,
    pub gender: Gender,
    pub birth_date: Date,
    pub id_number_masked: String,
    pub phone_masked: Option<String>,
    pub ethnicity: String,
    pub residence_type: ResidenceType,
    pub relation: Relation,
    pub political_status: PoliticalStatus,
    pub tags: Vec<Tag>,
    pub version: i64,
}

impl Resident {
    pub fn age_on(&self, on: Date) -> i16 {
        age_on(self.birth_date, on)
    }

    pub fn is_minor_on(&self, on: Date) -> bool {
        self.age_on(on) < MINOR_AGE
    }
}

/// A name as printed where strangers may read it: the first character and,
/// from three characters on, the last: 李明芳 → 李*芳, 王芳 → 王*,
/// 欧阳明芳 → 欧**芳.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

pub fn age_on(born: Date, on: Date) -> i16 {
    let mut age = on.year() - born.year();
    if (on.month(), on.day()) < (born.month(), born.day()) {
        age -= 1;
    }
    age
}

/// The latest birth date of an adult (not a minor) on `today`.
pub fn adult_born_on_or_before(today: Date) -> Date {
    let year = today.year() - MINOR_AGE;
    Date::new(year, today.month(), today.day())
        .or_else(|_| Date::new(year, today.month(), 28))
        .unwrap_or(Date::MIN)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Household {
    pub id: Id,
    pub grid_id: Id,
    pub dwelling_id: Option<Id>,
    pub address: String,
    pub member_count: i64,
    /// Name of the head of household, when recorded.
    pub head_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dwelling {
    pub id: Id,
    pub unit_id: Id,
    pub floor: i64,
    pub number: String,
    pub dwelling_use: DwellingUse,
    pub area_m2: Option<f64>,
}

/// A business as typed into a form or sent to the API.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BusinessForm {
    pub name: String,
    pub credit_code: String,
    pub legal_rep: String,
    pub phone: Option<String>,
    pub address: String,
    pub opening_date: Option<String>,
    pub status: String,
    pub app_status: String,
    pub app_reason: Option<String>,
    #[serde(default)]
    pub app_note: String,
}

#[derive(Debug, Clone)]
pub struct BusinessInput {
    pub name: String,
    pub credit_code: CreditCode,
    pub legal_rep: String,
    pub phone: Option<Phone>,
    pub address: String,
    pub opening_date: Option<Date>,
    pub status: BusinessStatus,
    pub app_status: AppStatus,
    pub app_reason: Option<AppReason>,
    pub app_note: String,
}

impl BusinessForm {
    pub fn check(&self, today: Date) -> Result<BusinessInput, Vec<FieldError>> {
        let mut c = Checker::default();
        let name = c.required_text("name", &self.name, 80);
        let credit_code = c.credit_code("credit_code", &self.credit_code);
        let legal_rep = c.required_text("legal_rep", &self.legal_rep, 40);
        let phone = c.phone("phone", self.phone.as_deref());
        let address = c.required_text("address", &self.address, 120);
        let opening_date = c.past_date("opening_date", self.opening_date.as_deref(), today);
        let status = c.choice("status", &self.status, BusinessStatus::parse);
        let app_status = c.choice("app_status", &self.app_status, AppStatus::parse);
        let app_reason = match self
            .app_reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            Some(r) => c.choice("app_reason", r, AppReason::parse),
            None => None,
        };
        if app_status == Some(AppStatus::Unable) && app_reason.is_none() {
            c.errors.push(FieldError::new(
                "app_reason",
                "say why the legal person cannot register",
                "请选择无法注册的原因",
            ));
        }
        let app_note = c
            .optional_text("app_note", Some(&self.app_note), 200)
            .unwrap_or_default();
        c.finish(|| {
            Some(BusinessInput {
                name,
                credit_code: credit_code?,
                legal_rep,
                phone,
                address,
                opening_date,
                status: status?,
                app_status: app_status?,
                app_reason: if app_status == Some(AppStatus::Unable) {
                    app_reason
                } else {
                    None
                },
                app_note,
            })
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Business {
    pub id: Id,
    pub grid_id: Id,
    pub dwelling_id: Option<Id>,
    pub address: String,
    pub name: String,
    pub credit_code: String,
    pub legal_rep: String,
    pub phone_masked: Option<String>,
    pub opening_date: Option<Date>,
    pub status: BusinessStatus,
    pub app_status: AppStatus,
    pub app_reason: Option<AppReason>,
    pub app_note: String,
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idnumber::check_char;

    fn id(first17: &str) -> String {
        format!("{first17}{}", check_char(first17.as_bytes()) as char)
    }

    #[test]
    fn names_are_masked_for_print() {
        assert_eq!(mask_name("李明芳"), "李*芳");
        assert_eq!(mask_name("王芳"), "王*");
        assert_eq!(mask_name("欧阳明芳"), "欧**芳");
        assert_eq!(mask_name("李"), "*");
        assert_eq!(mask_name(" "), "");
    }

    fn form() -> ResidentForm {
        ResidentForm {
            name: " 李明芳 ".into(),
            id_number: id("34017119850612002"),
            phone: Some("138 0000 1234".into()),
            ethnicity: "汉族".into(),
            residence_type: "registered".into(),
            relation: "head".into(),
            political_status: "party_member".into(),
            tags: vec![Tag::Disabled {
                category: DisabilityCategory::Physical,
                grade: 3,
            }],
        }
    }

    #[test]
    fn a_good_form_derives_birth_date_and_gender() {
        let r = form().check(jiff::civil::date(2026, 11, 29)).unwrap();
        assert_eq!(r.name, "李明芳");
        assert_eq!(r.birth_date, jiff::civil::date(1985, 6, 12));
        assert_eq!(r.gender, Gender::Female);
        assert_eq!(r.phone.unwrap().masked(), "138****1234");
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut f = form();
        f.name = "  ".into();
        f.id_number = "340171198506120021".into();
        f.phone = Some("12345".into());
        f.ethnicity = "火星族".into();
        f.relation = "cousin".into();
        f.tags.push(Tag::Disabled {
            category: DisabilityCategory::Visual,
            grade: 7,
        });
        let errors = f.check(jiff::civil::date(2026, 11, 29)).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "name",
                "id_number",
                "phone",
                "ethnicity",
                "relation",
                "tags",
                "tags"
            ]
        );
        assert_eq!(
            errors[1].message(Lang::Zh),
            "身份证号码校验位不正确，可能有数字输错"
        );
    }

    #[test]
    fn minors_are_under_fourteen() {
        let today = jiff::civil::date(2026, 11, 29);
        assert_eq!(
            adult_born_on_or_before(today),
            jiff::civil::date(2012, 11, 29)
        );
        assert_eq!(age_on(jiff::civil::date(2012, 11, 29), today), 14);
        assert_eq!(age_on(jiff::civil::date(2012, 11, 30), today), 13);
        assert_eq!(
            adult_born_on_or_before(jiff::civil::date(2028, 2, 29)),
            jiff::civil::date(2014, 2, 28)
        );
    }

    #[test]
    fn an_unable_business_needs_its_reason() {
        let f = BusinessForm {
            name: "老王便利店".into(),
            credit_code: "91350100M000100Y43".into(),
            legal_rep: "王建国".into(),
            phone: None,
            address: "和平路 26 号".into(),
            opening_date: Some("2026-10-08".into()),
            status: "open".into(),
            app_status: "unable".into(),
            app_reason: None,
            app_note: String::new(),
        };
        let today = jiff::civil::date(2026, 11, 29);
        let errors = f.check(today).unwrap_err();
        assert_eq!(errors[0].field, "app_reason");
        let ok = BusinessForm {
            app_reason: Some("id_card_replaced".into()),
            ..f
        }
        .check(today)
        .unwrap();
        assert_eq!(ok.app_reason, Some(AppReason::IdCardReplaced));
        assert_eq!(
            AppReason::IdCardReplaced.label(Lang::Zh),
            "身份证刚换领，需到服务窗口办理"
        );
    }
}
