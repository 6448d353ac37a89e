//! Campaigns (专项工作): a goal, a period, a population picked by a filter,
//! teams assigned by building or unit, and each target's status with the
//! reason when it cannot be done.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::org::Id;
use crate::register::{
    AppReason, AppStatus, BusinessStatus, PoliticalStatus, ResidenceType, TagKind, age_on,
    text_enum,
};

text_enum!(
    /// What a campaign's targets are.
    TargetKind {
        Resident = "resident" / "居民" / "residents",
        Business = "business" / "商户" / "businesses",
    }
);

/// Who a campaign targets. Every condition set must hold; an empty list
/// or `None` leaves that condition out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TargetFilter {
    /// Grids (within the campaign's community); all when empty.
    pub grid_ids: Vec<Id>,
    /// Buildings; all when empty.
    pub building_ids: Vec<Id>,
    /// Residents with any of these tags.
    pub tags_any: Vec<TagKind>,
    pub min_age: Option<i16>,
    pub max_age: Option<i16>,
    pub residence_types: Vec<ResidenceType>,
    /// Only Party members (`true`) or only others (`false`).
    pub party_member: Option<bool>,
    /// Only residents without a phone number on the register.
    pub without_phone: bool,
    pub business_status: Vec<BusinessStatus>,
    /// Businesses opened on or after this day.
    pub opened_on_or_after: Option<Date>,
    pub app_status: Vec<AppStatus>,
}

/// Where a candidate lives or trades: for scope, teams and the
/// door-to-door order (building, unit, floor, door).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Placement {
    pub grid_id: Id,
    pub building_id: Option<Id>,
    pub building_number: Option<String>,
    pub unit_id: Option<Id>,
    pub unit_number: Option<i64>,
    pub floor: Option<i64>,
    pub door: Option<String>,
}

impl Placement {
    /// Where a target is, as a checklist or card prints it: 13栋2单元301.
    pub fn label(&self) -> String {
        match (&self.building_number, self.unit_number, &self.door) {
            (Some(b), Some(u), Some(d)) => format!("{b}栋{u}单元{d}"),
            (Some(b), Some(u), None) => format!("{b}栋{u}单元"),
            (Some(b), None, _) => format!("{b}栋"),
            _ => String::new(),
        }
    }
}

/// The facts a filter looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Facts {
    Resident {
        birth_date: Date,
        residence_type: ResidenceType,
        political_status: PoliticalStatus,
        tags: Vec<TagKind>,
        has_phone: bool,
    },
    Business {
        status: BusinessStatus,
        opening_date: Option<Date>,
        app_status: AppStatus,
    },
}

/// A resident or business that a campaign could target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub subject_id: Id,
    pub placement: Placement,
    pub facts: Facts,
}

impl TargetFilter {
    /// Whether the filter picks `c` on `today`.
    pub fn picks(&self, c: &Candidate, today: Date) -> bool {
        let p = &c.placement;
        if !self.grid_ids.is_empty() && !self.grid_ids.contains(&p.grid_id) {
            return false;
        }
        if !self.building_ids.is_empty()
            && !p
                .building_id
                .is_some_and(|b| self.building_ids.contains(&b))
        {
            return false;
        }
        match &c.facts {
            Facts::Resident {
                birth_date,
                residence_type,
                political_status,
                tags,
                has_phone,
            } => {
                let age = age_on(*birth_date, today);
                (self.tags_any.is_empty() || self.tags_any.iter().any(|t| tags.contains(t)))
                    && self.min_age.is_none_or(|m| age >= m)
                    && self.max_age.is_none_or(|m| age <= m)
                    && (self.residence_types.is_empty()
                        || self.residence_types.contains(residence_type))
                    && self.party_member.is_none_or(|want| {
                        want == (*political_status == PoliticalStatus::PartyMember)
                    })
                    && !(self.without_phone && *has_phone)
            }
            Facts::Business {
                status,
                opening_date,
                app_status,
            } => {
                (self.business_status.is_empty() || self.business_status.contains(status))
                    && self
                        .opened_on_or_after
                        .is_none_or(|d| opening_date.is_some_and(|o| o >= d))
                    && (self.app_status.is_empty() || self.app_status.contains(app_status))
            }
        }
    }

    /// Conditions that make no sense for the kind of target.
    pub fn check(&self, kind: TargetKind) -> Result<(), String> {
        if let (Some(a), Some(b)) = (self.min_age, self.max_age)
            && a > b
        {
            return Err("最小年龄不能大于最大年龄".into());
        }
        let resident_only = !self.tags_any.is_empty()
            || self.min_age.is_some()
            || self.max_age.is_some()
            || !self.residence_types.is_empty()
            || self.party_member.is_some()
            || self.without_phone;
        let business_only = !self.business_status.is_empty()
            || self.opened_on_or_after.is_some()
            || !self.app_status.is_empty();
        match kind {
            TargetKind::Resident if business_only => Err("面向居民的工作不能按商户条件筛选".into()),
            TargetKind::Business if resident_only => Err("面向商户的工作不能按居民条件筛选".into()),
            _ => Ok(()),
        }
    }
}

text_enum!(
    /// Where a target stands.
    TargetStatus {
        Pending = "pending" / "待联系" / "pending",
        Contacted = "contacted" / "已联系" / "contacted",
        Done = "done" / "已完成" / "done",
        Unable = "unable" / "无法完成" / "unable",
    }
);

text_enum!(
    /// Why a target is not (yet) done, and what to do about it.
    TargetReason {
        IdCardReplaced = "id_card_replaced" / "身份证刚换领，引导到服务窗口办理" / "ID card just replaced: to the service counter",
        OwnerAway = "owner_away" / "本人不在本地，电话指导办理" / "away: guided by phone",
        BusinessMoved = "business_moved" / "商户已迁出" / "business moved",
        NoSmartphone = "no_smartphone" / "无智能手机，打印二维码卡片" / "no smartphone: QR card printed",
        NotHome = "not_home" / "多次上门无人" / "nobody home after several visits",
        Refused = "refused" / "本人拒绝" / "refused",
        MovedAway = "moved_away" / "已搬离" / "moved away",
        Other = "other" / "其他原因" / "other",
    }
);

/// Why a status change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("the target is already {0}")]
    Same(&'static str),
    #[error("a done target stays done")]
    AlreadyDone,
    #[error("say why it cannot be done")]
    ReasonNeeded,
}

impl TargetError {
    pub fn zh(&self) -> String {
        match self {
            TargetError::Same(s) => format!(
                "已是“{}”",
                TargetStatus::parse(s)
                    .map(|s| s.label(Lang::Zh))
                    .unwrap_or("")
            ),
            TargetError::AlreadyDone => "已完成的任务不能再改状态".into(),
            TargetError::ReasonNeeded => "请选择无法完成的原因".into(),
        }
    }
}

/// Checks a target's move. `Unable` needs a reason; other moves may carry
/// one (contacted, guided by phone). Done is final.
pub fn check_move(
    from: TargetStatus,
    to: TargetStatus,
    reason: Option<TargetReason>,
) -> Result<(), TargetError> {
    if from == TargetStatus::Done {
        return Err(TargetError::AlreadyDone);
    }
    if from == to && to != TargetStatus::Contacted {
        return Err(TargetError::Same(to.as_str()));
    }
    if to == TargetStatus::Unable && reason.is_none() {
        return Err(TargetError::ReasonNeeded);
    }
    Ok(())
}

/// What a business target's status means for the business's
/// government-app registration on the register: done is registered, unable
/// is unable with the matching reason, anything else is not yet.
pub fn app_registration(
    status: TargetStatus,
    reason: Option<TargetReason>,
) -> (AppStatus, Option<AppReason>) {
    match status {
        TargetStatus::Done => (AppStatus::Registered, None),
        TargetStatus::Unable => (
            AppStatus::Unable,
            Some(match reason {
                Some(TargetReason::IdCardReplaced) => AppReason::IdCardReplaced,
                Some(TargetReason::OwnerAway) => AppReason::OwnerAway,
                Some(TargetReason::BusinessMoved) => AppReason::BusinessMoved,
                Some(TargetReason::NoSmartphone) => AppReason::NoSmartphone,
                _ => AppReason::Other,
            }),
        ),
        TargetStatus::Pending | TargetStatus::Contacted => (AppStatus::Pending, None),
    }
}

/// Counts of targets by status, with the rates shown on progress pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub total: i64,
    pub pending: i64,
    pub contacted: i64,
    pub done: i64,
    pub unable: i64,
}

impl Progress {
    pub fn add(&mut self, status: TargetStatus, n: i64) {
        self.total += n;
        match status {
            TargetStatus::Pending => self.pending += n,
            TargetStatus::Contacted => self.contacted += n,
            TargetStatus::Done => self.done += n,
            TargetStatus::Unable => self.unable += n,
        }
    }

    /// Share of targets reached at all (知晓率): contacted, done or unable.
    pub fn awareness(&self) -> Option<f64> {
        (self.total > 0).then(|| (self.total - self.pending) as f64 / self.total as f64)
    }

    /// Share done (完成率).
    pub fn completion(&self) -> Option<f64> {
        (self.total > 0).then(|| self.done as f64 / self.total as f64)
    }
}

/// A percentage for display, `—` for no sample.
pub fn percent(rate: Option<f64>) -> String {
    rate.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

text_enum!(
    /// The campaigns of the story, shipped as templates.
    Template {
        PlatformRegistration = "platform_registration" / "居民注册社区服务平台" / "residents onto the community platform",
        DrillPreRegistration = "drill_pre_registration" / "演练预登记（扫码）" / "testing-drill pre-registration",
        BusinessRegistration = "business_registration" / "新开商户注册与安全检查" / "new-business registration with safety check",
        Custom = "custom" / "自定义" / "custom",
    }
);

impl Template {
    pub fn kind(self) -> TargetKind {
        match self {
            Template::BusinessRegistration => TargetKind::Business,
            _ => TargetKind::Resident,
        }
    }

    /// The goal text a new campaign starts from.
    pub fn goal(self) -> &'static str {
        match self {
            Template::PlatformRegistration => {
                "入户宣传，指导 18 岁以上居民注册社区服务平台，按楼栋统计注册率"
            }
            Template::DrillPreRegistration => {
                "居民扫码预登记演练；60 岁以上无手机的居民打印二维码卡片，到现场扫码签到"
            }
            Template::BusinessRegistration => {
                "新开商户逐户安全检查，指导法人注册政务服务平台，无法注册的写明原因"
            }
            Template::Custom => "",
        }
    }

    /// The filter a new campaign starts from (`today` for dates).
    pub fn filter(self, today: Date) -> TargetFilter {
        match self {
            Template::PlatformRegistration => TargetFilter {
                min_age: Some(18),
                ..TargetFilter::default()
            },
            Template::DrillPreRegistration => TargetFilter::default(),
            Template::BusinessRegistration => TargetFilter {
                business_status: vec![BusinessStatus::Open],
                opened_on_or_after: today.checked_sub(jiff::Span::new().months(6)).ok(),
                ..TargetFilter::default()
            },
            Template::Custom => TargetFilter::default(),
        }
    }

    /// The reasons offered on this campaign's targets.
    pub fn reasons(self) -> &'static [TargetReason] {
        use TargetReason::*;
        match self {
            Template::BusinessRegistration => {
                &[IdCardReplaced, OwnerAway, BusinessMoved, Refused, Other]
            }
            Template::DrillPreRegistration => {
                &[NoSmartphone, NotHome, OwnerAway, Refused, MovedAway, Other]
            }
            _ => TargetReason::ALL,
        }
    }

    /// Whether targets get a safety check beside their status.
    pub fn with_safety_check(self) -> bool {
        self == Template::BusinessRegistration
    }
}

/// Orders targets for a door-to-door round: building, unit, floor, door.
pub fn door_to_door_key(p: &Placement) -> impl Ord + '_ {
    (
        p.building_number.is_none(),
        p.building_number
            .as_deref()
            .map(natural_key)
            .unwrap_or_default(),
        p.unit_number.unwrap_or(i64::MAX),
        p.floor.unwrap_or(i64::MAX),
        p.door.as_deref().map(natural_key).unwrap_or_default(),
    )
}

/// "13" after "9": digits compare as numbers.
fn natural_key(s: &str) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut digits = String::new();
    let mut text = String::new();
    for ch in s.chars() {
        if ch.is_ascii_digit() {
            if !text.is_empty() {
                out.push((u64::MAX, std::mem::take(&mut text)));
            }
            digits.push(ch);
        } else {
            if !digits.is_empty() {
                out.push((digits.parse().unwrap_or(u64::MAX), String::new()));
                digits.clear();
            }
            text.push(ch);
        }
    }
    if !digits.is_empty() {
        out.push((digits.parse().unwrap_or(u64::MAX), String::new()));
    }
    if !text.is_empty() {
        out.push((u64::MAX, text));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(
        grid: Id,
        building: Option<(Id, &str)>,
        unit: i64,
        floor: i64,
        door: &str,
    ) -> Placement {
        Placement {
            grid_id: grid,
            building_id: building.map(|b| b.0),
            building_number: building.map(|b| b.1.to_string()),
            unit_id: building.map(|b| b.0 * 10 + unit),
            unit_number: Some(unit),
            floor: Some(floor),
            door: Some(door.into()),
        }
    }

    fn resident(id: Id, grid: Id, born: &str, tags: &[TagKind], phone: bool) -> Candidate {
        Candidate {
            subject_id: id,
            placement: placement(grid, Some((grid * 100, "1")), 1, 1, "101"),
            facts: Facts::Resident {
                birth_date: born.parse().unwrap(),
                residence_type: ResidenceType::Registered,
                political_status: PoliticalStatus::Masses,
                tags: tags.to_vec(),
                has_phone: phone,
            },
        }
    }

    #[test]
    fn filters_combine_area_age_tags_and_phone() {
        let today: Date = "2026-11-29".parse().unwrap();
        let people = [
            resident(1, 1, "1950-01-01", &[], false),
            resident(2, 1, "1950-01-01", &[], true),
            resident(3, 1, "1990-01-01", &[], false),
            resident(4, 2, "1950-01-01", &[], false),
            resident(5, 1, "1966-11-30", &[TagKind::Dibao], false),
            resident(6, 1, "1966-11-29", &[TagKind::Dibao], false),
        ];
        let over_60_no_phone = TargetFilter {
            grid_ids: vec![1],
            min_age: Some(60),
            without_phone: true,
            ..Default::default()
        };
        let picked: Vec<Id> = people
            .iter()
            .filter(|c| over_60_no_phone.picks(c, today))
            .map(|c| c.subject_id)
            .collect();
        // 5 turns 60 tomorrow; 6 turned 60 today.
        assert_eq!(picked, vec![1, 6]);

        let dibao = TargetFilter {
            tags_any: vec![TagKind::Dibao, TagKind::FiveGuarantees],
            ..Default::default()
        };
        let picked: Vec<Id> = people
            .iter()
            .filter(|c| dibao.picks(c, today))
            .map(|c| c.subject_id)
            .collect();
        assert_eq!(picked, vec![5, 6]);
    }

    #[test]
    fn business_filters_use_status_and_opening_date() {
        let today: Date = "2026-11-29".parse().unwrap();
        let shop = |id, status, opened: Option<&str>| Candidate {
            subject_id: id,
            placement: placement(1, None, 1, 1, ""),
            facts: Facts::Business {
                status,
                opening_date: opened.map(|d| d.parse().unwrap()),
                app_status: AppStatus::Pending,
            },
        };
        let f = Template::BusinessRegistration.filter(today);
        assert_eq!(f.opened_on_or_after, Some("2026-05-29".parse().unwrap()));
        assert!(f.picks(&shop(1, BusinessStatus::Open, Some("2026-09-01")), today));
        assert!(!f.picks(&shop(2, BusinessStatus::Open, Some("2025-09-01")), today));
        assert!(!f.picks(&shop(3, BusinessStatus::Moved, Some("2026-09-01")), today));
        assert!(!f.picks(&shop(4, BusinessStatus::Open, None), today));
        assert!(f.check(TargetKind::Business).is_ok());
        assert!(f.check(TargetKind::Resident).is_err());
    }

    #[test]
    fn moves_need_reasons_and_done_is_final() {
        use TargetStatus::*;
        assert_eq!(
            check_move(Pending, Unable, None),
            Err(TargetError::ReasonNeeded)
        );
        assert_eq!(
            check_move(Pending, Unable, Some(TargetReason::IdCardReplaced)),
            Ok(())
        );
        assert_eq!(check_move(Unable, Done, None), Ok(()));
        assert_eq!(
            check_move(Contacted, Contacted, Some(TargetReason::OwnerAway)),
            Ok(())
        );
        assert_eq!(
            check_move(Done, Pending, None),
            Err(TargetError::AlreadyDone)
        );
        assert_eq!(
            check_move(Pending, Pending, None),
            Err(TargetError::Same("pending"))
        );
    }

    #[test]
    fn business_targets_set_the_registration_on_the_register() {
        use TargetStatus::*;
        assert_eq!(app_registration(Done, None), (AppStatus::Registered, None));
        assert_eq!(
            app_registration(Unable, Some(TargetReason::IdCardReplaced)),
            (AppStatus::Unable, Some(AppReason::IdCardReplaced))
        );
        assert_eq!(
            app_registration(Unable, Some(TargetReason::Refused)),
            (AppStatus::Unable, Some(AppReason::Other))
        );
        assert_eq!(
            app_registration(Contacted, Some(TargetReason::OwnerAway)),
            (AppStatus::Pending, None)
        );
    }

    #[test]
    fn progress_rates() {
        let mut p = Progress::default();
        assert_eq!(p.completion(), None);
        assert_eq!(percent(p.completion()), "—");
        p.add(TargetStatus::Pending, 5);
        p.add(TargetStatus::Contacted, 2);
        p.add(TargetStatus::Done, 2);
        p.add(TargetStatus::Unable, 1);
        assert_eq!(p.total, 10);
        assert_eq!(p.awareness(), Some(0.5));
        assert_eq!(p.completion(), Some(0.2));
        assert_eq!(percent(p.awareness()), "50.0%");
    }

    #[test]
    fn door_to_door_order_is_building_unit_floor_door() {
        let mut ps = [
            placement(1, Some((3, "13")), 1, 2, "201"),
            placement(1, Some((2, "9")), 2, 1, "101"),
            placement(1, Some((2, "9")), 1, 3, "301"),
            placement(1, None, 1, 1, "x"),
            placement(1, Some((2, "9")), 1, 1, "102"),
            placement(1, Some((2, "9")), 1, 1, "101"),
        ];
        ps.sort_by(|a, b| door_to_door_key(a).cmp(&door_to_door_key(b)));
        let order: Vec<_> = ps
            .iter()
            .map(|p| {
                format!(
                    "{}-{}-{}",
                    p.building_number.as_deref().unwrap_or("?"),
                    p.unit_number.unwrap(),
                    p.door.as_deref().unwrap()
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                "9-1-101", "9-1-102", "9-1-301", "9-2-101", "13-1-201", "?-1-x"
            ]
        );
    }
}
