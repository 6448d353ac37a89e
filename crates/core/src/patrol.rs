//! Patrols (巡查): the GPS track a grid worker walks, its length, and the
//! safety check of a business (安全检查).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::geo::GeoPoint;
use crate::i18n::Lang;
use crate::register::text_enum;

/// One GPS fix. The phone numbers its fixes (`seq`) so that a batch sent
/// twice, or two batches overlapping after a lost answer, keep each fix once.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrackPoint {
    pub seq: i64,
    pub at: Timestamp,
    pub point: GeoPoint,
    /// Radius of the fix's uncertainty, as the phone reports it.
    pub accuracy_m: Option<f64>,
}

/// Fixes less certain than this are kept but not measured.
pub const MAX_ACCURACY_M: f64 = 100.0;
/// Faster than this between two fixes (144 km/h) is a GPS jump, not a walk.
pub const MAX_SPEED_MPS: f64 = 40.0;
/// The most fixes one upload may carry.
pub const MAX_BATCH: usize = 2_000;

/// Why a batch of fixes is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrackError {
    #[error("a batch holds at most {MAX_BATCH} points")]
    TooMany,
    #[error("point {0} has a negative sequence number")]
    NegativeSeq(i64),
    #[error("point {0} is timed before the patrol started")]
    BeforeStart(i64),
    #[error("point {0} is timed in the future")]
    InFuture(i64),
}

impl TrackError {
    pub fn zh(&self) -> String {
        match self {
            TrackError::TooMany => format!("一次最多上传 {MAX_BATCH} 个轨迹点"),
            TrackError::NegativeSeq(s) => format!("轨迹点 {s} 的序号不能为负"),
            TrackError::BeforeStart(s) => format!("轨迹点 {s} 的时间早于巡查开始"),
            TrackError::InFuture(s) => format!("轨迹点 {s} 的时间晚于当前时间"),
        }
    }
}

/// Checks a batch against its patrol: at most [`MAX_BATCH`], numbered,
/// timed between the patrol's start and `now` (a phone clock a few
/// minutes fast is tolerated).
pub fn check_batch(
    points: &[TrackPoint],
    started_at: Timestamp,
    now: Timestamp,
) -> Result<(), TrackError> {
    if points.len() > MAX_BATCH {
        return Err(TrackError::TooMany);
    }
    let slack = jiff::SignedDuration::from_mins(5);
    for p in points {
        if p.seq < 0 {
            return Err(TrackError::NegativeSeq(p.seq));
        }
        if p.at < started_at - slack {
            return Err(TrackError::BeforeStart(p.seq));
        }
        if p.at > now + slack {
            return Err(TrackError::InFuture(p.seq));
        }
    }
    Ok(())
}

/// Length in metres of a track, its fixes taken in `seq` order: fixes
/// less accurate than [`MAX_ACCURACY_M`] are skipped, and so is any fix
/// that would mean moving faster than [`MAX_SPEED_MPS`] from the last one
/// kept. Gaps (a tunnel, a phone in a pocket) join their two ends.
pub fn track_length_m(points: &[TrackPoint]) -> f64 {
    let mut sorted: Vec<&TrackPoint> = points.iter().collect();
    sorted.sort_by_key(|p| p.seq);
    let mut last: Option<&TrackPoint> = None;
    let mut total = 0.0;
    for p in sorted {
        if p.accuracy_m.is_some_and(|a| a > MAX_ACCURACY_M) {
            continue;
        }
        if let Some(l) = last {
            let d = l.point.distance_m(&p.point);
            let secs = (p.at - l.at).as_secs_f64();
            if secs <= 0.0 || d / secs > MAX_SPEED_MPS {
                continue;
            }
            total += d;
        }
        last = Some(p);
    }
    total
}

text_enum!(
    /// An item of a business's safety check (安全检查).
    SafetyItem {
        Extinguishers = "extinguishers" / "灭火器配备且在有效期内" / "fire extinguishers present and in date",
        Exits = "exits" / "安全出口、疏散通道畅通" / "exits and escape routes clear",
        Wiring = "wiring" / "电气线路规范，无私拉乱接" / "wiring sound, no makeshift cables",
        Gas = "gas" / "燃气设施安全（报警器、软管、阀门）" / "gas safe (alarm, hoses, valves)",
        Flammables = "flammables" / "无违规存放易燃易爆物品" / "no flammables stored against the rules",
        NoLodging = "no_lodging" / "经营场所无人员住宿（无“三合一”）" / "nobody sleeps on the premises",
    }
);

text_enum!(
    /// The answer to one item of a safety check.
    ItemResult {
        Pass = "pass" / "合格" / "pass",
        Fail = "fail" / "不合格" / "fail",
        NotApplicable = "na" / "不适用" / "not applicable",
    }
);

/// One answered item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemAnswer {
    pub item: SafetyItem,
    pub result: ItemResult,
    #[serde(default)]
    pub note: String,
}

/// Why a safety check is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InspectionError {
    #[error("item {0} is not answered")]
    Missing(&'static str),
    #[error("item {0} is answered twice")]
    Twice(&'static str),
    #[error("say what is wrong with failed item {0}")]
    FailWithoutNote(&'static str),
}

impl InspectionError {
    pub fn zh(&self) -> String {
        let label = |code: &str| {
            SafetyItem::parse(code)
                .map(|i| i.label(Lang::Zh))
                .unwrap_or("")
        };
        match self {
            InspectionError::Missing(c) => format!("检查项“{}”未填写", label(c)),
            InspectionError::Twice(c) => format!("检查项“{}”重复", label(c)),
            InspectionError::FailWithoutNote(c) => {
                format!("检查项“{}”不合格，请写明问题", label(c))
            }
        }
    }
}

/// Checks that every item is answered once and every failure says what
/// is wrong; answers come back in the checklist's order.
pub fn check_inspection(mut answers: Vec<ItemAnswer>) -> Result<Vec<ItemAnswer>, InspectionError> {
    for item in SafetyItem::ALL {
        match answers.iter().filter(|a| a.item == *item).count() {
            0 => return Err(InspectionError::Missing(item.as_str())),
            1 => {}
            _ => return Err(InspectionError::Twice(item.as_str())),
        }
    }
    for a in &mut answers {
        a.note = a.note.trim().chars().take(200).collect();
        if a.result == ItemResult::Fail && a.note.is_empty() {
            return Err(InspectionError::FailWithoutNote(a.item.as_str()));
        }
    }
    answers.sort_by_key(|a| SafetyItem::ALL.iter().position(|i| *i == a.item));
    Ok(answers)
}

/// The failed items of a check.
pub fn failures(answers: &[ItemAnswer]) -> impl Iterator<Item = &ItemAnswer> {
    answers.iter().filter(|a| a.result == ItemResult::Fail)
}

/// The category a failed safety item is reported under (安全隐患).
pub const HAZARD_CATEGORY: &str = "C02";

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(seq: i64, secs: i64, lon: f64, lat: f64, acc: Option<f64>) -> TrackPoint {
        TrackPoint {
            seq,
            at: Timestamp::from_second(1_800_000_000 + secs).unwrap(),
            point: GeoPoint::new(lon, lat).unwrap(),
            accuracy_m: acc,
        }
    }

    #[test]
    fn length_skips_jumps_and_poor_fixes_and_orders_by_seq() {
        // ~111 m north per 0.001° of latitude, walked in 100 s each.
        let walk = vec![
            fix(2, 200, 117.0, 31.002, Some(5.0)),
            fix(0, 0, 117.0, 31.000, Some(5.0)),
            fix(1, 100, 117.0, 31.001, Some(5.0)),
            // A jump of 11 km in 10 s: left out.
            fix(3, 210, 117.0, 31.1, Some(5.0)),
            // A fix 500 m uncertain: left out.
            fix(4, 250, 117.01, 31.002, Some(500.0)),
            fix(5, 300, 117.0, 31.003, None),
        ];
        let len = track_length_m(&walk);
        assert!((len - 333.6).abs() < 1.0, "{len}");
        assert_eq!(track_length_m(&[]), 0.0);
        assert_eq!(track_length_m(&walk[..1]), 0.0);
    }

    #[test]
    fn batches_are_checked_against_the_patrol() {
        let start = Timestamp::from_second(1_800_000_000).unwrap();
        let now = Timestamp::from_second(1_800_003_600).unwrap();
        let ok = vec![fix(0, 10, 117.0, 31.0, None)];
        assert_eq!(check_batch(&ok, start, now), Ok(()));
        let early = vec![fix(7, -3600, 117.0, 31.0, None)];
        assert_eq!(
            check_batch(&early, start, now),
            Err(TrackError::BeforeStart(7))
        );
        let late = vec![fix(8, 7200, 117.0, 31.0, None)];
        assert_eq!(check_batch(&late, start, now), Err(TrackError::InFuture(8)));
        let neg = vec![fix(-1, 10, 117.0, 31.0, None)];
        assert_eq!(
            check_batch(&neg, start, now),
            Err(TrackError::NegativeSeq(-1))
        );
    }

    fn answers(result: ItemResult) -> Vec<ItemAnswer> {
        SafetyItem::ALL
            .iter()
            .rev()
            .map(|i| ItemAnswer {
                item: *i,
                result,
                note: String::new(),
            })
            .collect()
    }

    #[test]
    fn inspections_answer_every_item_once() {
        let ok = check_inspection(answers(ItemResult::Pass)).unwrap();
        assert_eq!(ok[0].item, SafetyItem::Extinguishers);
        assert_eq!(failures(&ok).count(), 0);

        let mut missing = answers(ItemResult::Pass);
        missing.retain(|a| a.item != SafetyItem::Gas);
        assert_eq!(
            check_inspection(missing),
            Err(InspectionError::Missing("gas"))
        );

        let mut twice = answers(ItemResult::Pass);
        twice.push(twice[0].clone());
        assert!(matches!(
            check_inspection(twice),
            Err(InspectionError::Twice(_))
        ));

        let mut failed = answers(ItemResult::Pass);
        failed[0].result = ItemResult::Fail;
        let item = failed[0].item.as_str();
        assert_eq!(
            check_inspection(failed.clone()),
            Err(InspectionError::FailWithoutNote(item))
        );
        failed[0].note = "  安全出口堆放纸箱  ".into();
        let checked = check_inspection(failed).unwrap();
        let f: Vec<_> = failures(&checked).collect();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].note, "安全出口堆放纸箱");
    }
}
