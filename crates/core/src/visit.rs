//! Care visits (走访) and the help that follows them (帮扶).
//!
//! Which households a grid worker must visit, and how often, follows from
//! rules over their members' tags and ages (PRODUCT.md §5; the rules are
//! data, editable by administrators). A household's frequency is that of
//! the most frequent rule any member meets; a major change in a member's
//! life (hospitalised, bereaved …) makes a visit due within 24 hours.
//! The scheduler is pure: the clock is an argument.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::org::Id;
use crate::register::{TagKind, age_on, text_enum};

text_enum!(
    /// How often a household is visited.
    Frequency {
        Weekly = "weekly" / "每周" / "weekly",
        Monthly = "monthly" / "每月" / "monthly",
        Quarterly = "quarterly" / "每季度" / "quarterly",
        HalfYearly = "half_yearly" / "每半年" / "twice a year",
    }
);

impl Frequency {
    pub fn interval(self) -> SignedDuration {
        SignedDuration::from_hours(24 * self.days())
    }

    pub fn days(self) -> i64 {
        match self {
            Frequency::Weekly => 7,
            Frequency::Monthly => 30,
            Frequency::Quarterly => 91,
            Frequency::HalfYearly => 182,
        }
    }

    /// How long before its due date a visit shows on the "due" list.
    pub fn lead(self) -> SignedDuration {
        SignedDuration::from_hours(6 * self.days())
    }
}

/// A major change must be followed by a visit within this.
pub const MAJOR_CHANGE_WITHIN: SignedDuration = SignedDuration::from_hours(24);

/// A visit rule: a household with a member who has `tag` (any member when
/// `None`) and is at least `min_age` (any age when `None`) is visited at
/// `frequency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitRule {
    pub id: Id,
    pub name: String,
    pub tag: Option<TagKind>,
    pub min_age: Option<i16>,
    pub frequency: Frequency,
}

impl VisitRule {
    pub fn applies(&self, member: &Member, today: Date) -> bool {
        self.tag.is_none_or(|t| member.tags.contains(&t))
            && self
                .min_age
                .is_none_or(|a| age_on(member.birth_date, today) >= a)
    }
}

/// The default rules of PRODUCT.md §5, most frequent first.
pub fn default_rules() -> Vec<VisitRule> {
    let rule = |name: &str, tag, min_age, frequency| VisitRule {
        id: 0,
        name: name.into(),
        tag,
        min_age,
        frequency,
    };
    use Frequency::*;
    use TagKind::*;
    vec![
        rule("80岁以上独居老人", Some(ElderlyAlone), Some(80), Weekly),
        rule("重病患者", Some(SeriousIllness), None, Weekly),
        rule("五保户", Some(FiveGuarantees), None, Monthly),
        rule("脱贫户", Some(PovertyAlleviated), None, Monthly),
        rule("低保户", Some(Dibao), None, Monthly),
        rule("困难党员", Some(PartyMemberInDifficulty), None, Monthly),
        rule("60岁以上残疾人", Some(Disabled), Some(60), Monthly),
        rule("独居老人", Some(ElderlyAlone), None, Monthly),
        rule("留守儿童", Some(LeftBehindChild), None, Monthly),
        rule("其他老年人（60岁以上）", None, Some(60), Quarterly),
        rule("普通家庭", None, None, HalfYearly),
    ]
}

/// Checks an edited rule set: names present, ages sensible, and one rule
/// for everyone (neither tag nor age), so that every household is visited.
pub fn check_rules(rules: &[VisitRule]) -> Result<(), String> {
    for r in rules {
        if r.name.trim().is_empty() || r.name.chars().count() > 40 {
            return Err("每条规则需要名称（不超过 40 字）".into());
        }
        if r.min_age.is_some_and(|a| !(0..=120).contains(&a)) {
            return Err(format!("规则“{}”的年龄应在 0–120 之间", r.name));
        }
    }
    if !rules.iter().any(|r| r.tag.is_none() && r.min_age.is_none()) {
        return Err("需要一条适用于所有家庭的规则（不限标签和年龄）".into());
    }
    Ok(())
}

/// A member of a household, as the scheduler needs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub resident_id: Id,
    pub name: String,
    pub birth_date: Date,
    pub tags: Vec<TagKind>,
}

/// What the scheduler knows of a household.
#[derive(Debug, Clone, PartialEq)]
pub struct CareFacts {
    pub members: Vec<Member>,
    /// When the household was first registered (its clock starts there).
    pub listed_at: Timestamp,
    pub last_visit: Option<Timestamp>,
    /// The latest major change of any member.
    pub major_change: Option<MajorChangeFact>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MajorChangeFact {
    pub at: Timestamp,
    pub kind: MajorChange,
    pub resident_id: Id,
}

text_enum!(
    /// A major change in a resident's life that calls for a visit within 24 h.
    MajorChange {
        Hospitalised = "hospitalised" / "住院" / "hospitalised",
        Bereaved = "bereaved" / "家中亲人去世" / "bereaved",
        Disaster = "disaster" / "遭受灾害或意外" / "disaster or accident",
        LostIncome = "lost_income" / "失业或收入骤降" / "lost job or income",
        Other = "other" / "其他重大变故" / "other major change",
    }
);

text_enum!(
    /// Where a household stands on its worker's list.
    VisitStatus {
        Overdue = "overdue" / "已逾期" / "overdue",
        Due = "due" / "待走访" / "due",
        Upcoming = "upcoming" / "未到期" / "not yet due",
    }
);

/// Why a household is due, and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schedule {
    pub frequency: Frequency,
    /// The rule that set the frequency.
    pub rule: String,
    /// The member the rule applies to (none for the everyone rule).
    pub because_of: Option<Id>,
    pub due_at: Timestamp,
    pub status: VisitStatus,
    /// Set when a major change not yet visited set the due date.
    pub major_change: Option<MajorChange>,
}

/// The household's visit schedule at `now`; `None` when no rule applies.
pub fn schedule(
    facts: &CareFacts,
    rules: &[VisitRule],
    now: Timestamp,
    today: Date,
) -> Option<Schedule> {
    let (rule, member) = rules
        .iter()
        .flat_map(|r| {
            facts
                .members
                .iter()
                .filter(move |m| r.applies(m, today))
                .map(move |m| (r, Some(m)))
                .chain(
                    (facts.members.is_empty() && r.tag.is_none() && r.min_age.is_none())
                        .then_some((r, None)),
                )
        })
        .min_by_key(|(r, _)| r.frequency.days())?;
    let frequency = rule.frequency;
    let mut due_at = facts.last_visit.unwrap_or(facts.listed_at) + frequency.interval();
    let mut major_change = None;
    if let Some(change) = &facts.major_change
        && facts.last_visit.is_none_or(|v| v < change.at)
    {
        let within = change.at + MAJOR_CHANGE_WITHIN;
        if within < due_at {
            due_at = within;
        }
        major_change = Some(change.kind);
    }
    let status = if now > due_at {
        VisitStatus::Overdue
    } else if major_change.is_some() || now >= due_at - frequency.lead() {
        VisitStatus::Due
    } else {
        VisitStatus::Upcoming
    };
    Some(Schedule {
        frequency,
        rule: rule.name.clone(),
        because_of: member
            .filter(|_| rule.tag.is_some() || rule.min_age.is_some())
            .map(|m| m.resident_id),
        due_at,
        status,
        major_change,
    })
}

text_enum!(
    /// How a visit was made.
    VisitMode {
        Home = "home" / "入户走访" / "home visit",
        Phone = "phone" / "电话" / "phone",
        Messaging = "messaging" / "微信/短信" / "messaging",
        ViaVolunteer = "via_volunteer" / "委托志愿者" / "via a volunteer",
    }
);

text_enum!(
    /// The kind of a need found on a visit.
    NeedKind {
        Living = "living" / "生活" / "living",
        Medical = "medical" / "医疗" / "medical",
        Employment = "employment" / "就业" / "employment",
        Education = "education" / "教育" / "education",
        Housing = "housing" / "住房" / "housing",
        Psychological = "psychological" / "心理" / "psychological",
    }
);

/// A need written down on a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Need {
    pub kind: NeedKind,
    pub detail: String,
}

text_enum!(
    /// A programme a need can be referred to (帮扶项目).
    Programme {
        GirlsSchoolAid = "girls_school_aid" / "春蕾助学（女童助学金）" / "school aid for girls",
        CommunityJobs = "community_jobs" / "社区就近就业（公益性岗位）" / "community employment near home",
        MedicalAid = "medical_aid" / "医疗救助" / "medical aid",
        Dibao = "dibao" / "低保申请" / "minimum living allowance",
        TemporaryRelief = "temporary_relief" / "临时救助" / "temporary relief",
        HomeCare = "home_care" / "居家养老服务" / "home care for the elderly",
        HousingAid = "housing_aid" / "住房救助" / "housing aid",
        Counselling = "counselling" / "心理疏导" / "counselling",
        Other = "other" / "其他帮扶" / "other help",
    }
);

impl Programme {
    /// The programme a kind of need usually goes to.
    pub fn for_need(kind: NeedKind) -> Programme {
        match kind {
            NeedKind::Living => Programme::TemporaryRelief,
            NeedKind::Medical => Programme::MedicalAid,
            NeedKind::Employment => Programme::CommunityJobs,
            NeedKind::Education => Programme::GirlsSchoolAid,
            NeedKind::Housing => Programme::HousingAid,
            NeedKind::Psychological => Programme::Counselling,
        }
    }
}

text_enum!(
    /// Where a referral stands.
    ReferralStatus {
        Recommended = "recommended" / "已推荐" / "recommended",
        Submitted = "submitted" / "已提交" / "submitted",
        Approved = "approved" / "已批准" / "approved",
        Rejected = "rejected" / "未获批准" / "rejected",
        Delivered = "delivered" / "已落实" / "delivered",
    }
);

impl ReferralStatus {
    /// The statuses a referral may move to from this one. A rejected
    /// referral may be submitted again (with what was missing).
    pub fn next(self) -> &'static [ReferralStatus] {
        use ReferralStatus::*;
        match self {
            Recommended => &[Submitted],
            Submitted => &[Approved, Rejected],
            Approved => &[Delivered],
            Rejected => &[Submitted],
            Delivered => &[],
        }
    }

    pub fn is_open(self) -> bool {
        !matches!(self, ReferralStatus::Delivered | ReferralStatus::Rejected)
    }
}

/// Checks a referral's move; a rejection needs its reason.
pub fn check_referral_move(
    from: ReferralStatus,
    to: ReferralStatus,
    note: &str,
) -> Result<(), String> {
    if !from.next().contains(&to) {
        return Err(format!(
            "帮扶状态不能从“{}”改为“{}”",
            from.label(Lang::Zh),
            to.label(Lang::Zh)
        ));
    }
    if to == ReferralStatus::Rejected && note.trim().is_empty() {
        return Err("请写明未获批准的原因".into());
    }
    Ok(())
}

/// Share of visits made by their due date, with the sample.
pub fn on_time_rate(on_time: i64, total: i64) -> Option<f64> {
    (total > 0).then(|| on_time as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn member(id: Id, born: &str, tags: &[TagKind]) -> Member {
        Member {
            resident_id: id,
            name: format!("居民{id}"),
            birth_date: born.parse().unwrap(),
            tags: tags.to_vec(),
        }
    }

    fn facts(members: Vec<Member>, last_visit: Option<&str>) -> CareFacts {
        CareFacts {
            members,
            listed_at: at("2026-01-01T00:00:00Z"),
            last_visit: last_visit.map(at),
            major_change: None,
        }
    }

    const TODAY: &str = "2026-11-29";

    fn run(f: &CareFacts, now: &str) -> Schedule {
        schedule(f, &default_rules(), at(now), TODAY.parse().unwrap()).unwrap()
    }

    #[test]
    fn each_frequency_from_tags_and_age() {
        let cases = [
            (
                vec![member(1, "1940-01-01", &[TagKind::ElderlyAlone])],
                Frequency::Weekly,
            ),
            (
                vec![member(1, "1970-01-01", &[TagKind::SeriousIllness])],
                Frequency::Weekly,
            ),
            (
                vec![member(1, "1970-01-01", &[TagKind::FiveGuarantees])],
                Frequency::Monthly,
            ),
            (
                vec![member(1, "1960-01-01", &[TagKind::Disabled])],
                Frequency::Monthly,
            ),
            // Disabled but under 60: no monthly rule, an adult household.
            (
                vec![member(1, "1990-01-01", &[TagKind::Disabled])],
                Frequency::HalfYearly,
            ),
            (vec![member(1, "1950-01-01", &[])], Frequency::Quarterly),
            (vec![member(1, "1990-01-01", &[])], Frequency::HalfYearly),
            (vec![], Frequency::HalfYearly),
        ];
        for (members, want) in cases {
            let s = run(&facts(members.clone(), None), "2026-11-29T00:00:00Z");
            assert_eq!(s.frequency, want, "{members:?}");
        }
    }

    #[test]
    fn the_most_frequent_member_sets_the_household() {
        let f = facts(
            vec![
                member(1, "1990-01-01", &[]),
                member(2, "1944-03-01", &[TagKind::ElderlyAlone]),
            ],
            Some("2026-11-20T02:00:00Z"),
        );
        let s = run(&f, "2026-11-26T00:00:00Z");
        assert_eq!(s.frequency, Frequency::Weekly);
        assert_eq!(s.because_of, Some(2));
        assert_eq!(s.due_at, at("2026-11-27T02:00:00Z"));
        assert_eq!(s.status, VisitStatus::Due);
        assert_eq!(
            run(&f, "2026-11-22T00:00:00Z").status,
            VisitStatus::Upcoming
        );
        assert_eq!(run(&f, "2026-11-27T02:00:01Z").status, VisitStatus::Overdue);
    }

    #[test]
    fn monthly_visits_come_due_and_go_overdue() {
        let f = facts(
            vec![member(1, "1970-05-01", &[TagKind::PovertyAlleviated])],
            Some("2026-10-01T00:00:00Z"),
        );
        assert_eq!(
            run(&f, "2026-10-20T00:00:00Z").status,
            VisitStatus::Upcoming
        );
        assert_eq!(run(&f, "2026-10-26T00:00:00Z").status, VisitStatus::Due);
        assert_eq!(run(&f, "2026-11-01T00:00:00Z").status, VisitStatus::Overdue);
        // Never visited: the clock starts when the household was listed.
        let never = facts(f.members.clone(), None);
        assert_eq!(
            run(&never, "2026-01-05T00:00:00Z").status,
            VisitStatus::Upcoming
        );
        assert_eq!(
            run(&never, "2026-02-01T00:00:00Z").status,
            VisitStatus::Overdue
        );
    }

    #[test]
    fn a_major_change_is_due_within_24_hours() {
        let mut f = facts(
            vec![member(1, "1990-01-01", &[])],
            Some("2026-11-01T00:00:00Z"),
        );
        f.major_change = Some(MajorChangeFact {
            at: at("2026-11-28T09:00:00Z"),
            kind: MajorChange::Hospitalised,
            resident_id: 1,
        });
        let s = run(&f, "2026-11-28T10:00:00Z");
        assert_eq!(s.due_at, at("2026-11-29T09:00:00Z"));
        assert_eq!(s.status, VisitStatus::Due);
        assert_eq!(s.major_change, Some(MajorChange::Hospitalised));
        assert_eq!(run(&f, "2026-11-29T09:00:01Z").status, VisitStatus::Overdue);
        // A visit after the change answers it.
        f.last_visit = Some(at("2026-11-28T15:00:00Z"));
        let s = run(&f, "2026-11-29T10:00:00Z");
        assert_eq!(s.major_change, None);
        assert_eq!(s.frequency, Frequency::HalfYearly);
        assert_eq!(s.status, VisitStatus::Upcoming);
    }

    #[test]
    fn adding_and_removing_a_tag_changes_the_frequency() {
        let mut f = facts(
            vec![member(1, "1980-01-01", &[])],
            Some("2026-10-01T00:00:00Z"),
        );
        assert_eq!(
            run(&f, "2026-11-29T00:00:00Z").status,
            VisitStatus::Upcoming
        );
        f.members[0].tags.push(TagKind::Dibao);
        let s = run(&f, "2026-11-29T00:00:00Z");
        assert_eq!(
            (s.frequency, s.status),
            (Frequency::Monthly, VisitStatus::Overdue)
        );
        f.members[0].tags.clear();
        assert_eq!(
            run(&f, "2026-11-29T00:00:00Z").frequency,
            Frequency::HalfYearly
        );
    }

    #[test]
    fn edited_rules_keep_a_rule_for_everyone() {
        let mut rules = default_rules();
        assert_eq!(check_rules(&rules), Ok(()));
        rules.retain(|r| r.tag.is_some() || r.min_age.is_some());
        assert!(check_rules(&rules).is_err());
    }

    #[test]
    fn referrals_move_forward_and_rejections_say_why() {
        use ReferralStatus::*;
        assert!(check_referral_move(Recommended, Submitted, "").is_ok());
        assert!(check_referral_move(Recommended, Approved, "").is_err());
        assert!(check_referral_move(Submitted, Rejected, " ").is_err());
        assert!(check_referral_move(Submitted, Rejected, "材料不全").is_ok());
        assert!(check_referral_move(Rejected, Submitted, "").is_ok());
        assert!(check_referral_move(Approved, Delivered, "").is_ok());
        assert!(check_referral_move(Delivered, Submitted, "").is_err());
    }
}
