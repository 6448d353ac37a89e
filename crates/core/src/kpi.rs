//! Performance figures of case handling, with their sample sizes: on-time
//! acceptance, dispatch and closure, rework, accurate dispatch, and the
//! mean handling time in working hours.

use jiff::Timestamp;
use serde::Serialize;

use crate::calendar::{Limit, Pause, WorkingCalendar};
use crate::category::StepLimits;

/// Below this many cases a figure is shown but not ranked.
pub const MIN_SAMPLE: u64 = 20;

/// Step limits used when a category sets none.
pub const DEFAULT_ACCEPTANCE: Limit = Limit::WorkingHours(2);
pub const DEFAULT_DISPATCH: Limit = Limit::WorkingHours(2);

/// What the figures need to know of one case.
#[derive(Debug, Clone)]
pub struct CaseTimes {
    pub overall: Limit,
    pub steps: StepLimits,
    pub reported: Timestamp,
    pub accepted: Option<Timestamp>,
    pub dispatched: Option<Timestamp>,
    pub closed: Option<Timestamp>,
    /// Failed verifications.
    pub reworks: i64,
    pub pauses: Vec<Pause>,
}

/// A share with the counts it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Rate {
    pub hits: u64,
    pub of: u64,
}

impl Rate {
    fn count(&mut self, hit: bool) {
        self.of += 1;
        self.hits += u64::from(hit);
    }

    /// The share, when there is anything to share.
    pub fn value(self) -> Option<f64> {
        (self.of > 0).then(|| self.hits as f64 / self.of as f64)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Kpis {
    pub cases: u64,
    pub on_time_acceptance: Rate,
    pub on_time_dispatch: Rate,
    pub on_time_closure: Rate,
    /// Dispatched cases sent back at least once after a failed check.
    pub rework: Rate,
    /// Dispatched cases closed without rework (1 − rework share).
    pub accurate_dispatch: Rate,
    /// Mean working hours from report to closure, over closed cases.
    pub mean_handling_hours: Option<f64>,
    /// Fewer than [`MIN_SAMPLE`] cases: shown, not ranked.
    pub small_sample: bool,
}

fn within(
    limit: Limit,
    cal: &WorkingCalendar,
    from: Timestamp,
    to: Timestamp,
    pauses: &[Pause],
) -> bool {
    limit.elapsed(cal, from, pauses, to) <= limit.amount(cal)
}

/// The figures of a set of cases.
pub fn compute(cases: &[CaseTimes], cal: &WorkingCalendar) -> Kpis {
    let mut k = Kpis {
        cases: cases.len() as u64,
        small_sample: (cases.len() as u64) < MIN_SAMPLE,
        ..Kpis::default()
    };
    let mut handling_hours = Vec::new();
    for c in cases {
        if let Some(at) = c.accepted {
            let limit = c.steps.acceptance.unwrap_or(DEFAULT_ACCEPTANCE);
            k.on_time_acceptance
                .count(within(limit, cal, c.reported, at, &c.pauses));
            if let Some(d) = c.dispatched {
                let limit = c.steps.dispatch.unwrap_or(DEFAULT_DISPATCH);
                k.on_time_dispatch
                    .count(within(limit, cal, at, d, &c.pauses));
            }
        }
        if c.dispatched.is_some() {
            k.rework.count(c.reworks > 0);
            k.accurate_dispatch.count(c.reworks == 0);
        }
        if let Some(closed) = c.closed {
            k.on_time_closure
                .count(within(c.overall, cal, c.reported, closed, &c.pauses));
            let worked = Limit::WorkingHours(1).elapsed(cal, c.reported, &c.pauses, closed);
            handling_hours.push(worked.as_secs_f64() / 3600.0);
        }
    }
    if !handling_hours.is_empty() {
        let mean = handling_hours.iter().sum::<f64>() / handling_hours.len() as f64;
        k.mean_handling_hours = Some((mean * 10.0).round() / 10.0);
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::CHINA;

    fn at(s: &str) -> Timestamp {
        CHINA
            .to_timestamp(s.parse::<jiff::civil::DateTime>().unwrap())
            .unwrap()
    }

    fn case(accepted: &str, dispatched: &str, closed: Option<&str>, reworks: i64) -> CaseTimes {
        CaseTimes {
            overall: Limit::WorkingDays(1),
            steps: StepLimits::default(),
            reported: at("2026-11-30T09:00"),
            accepted: Some(at(accepted)),
            dispatched: Some(at(dispatched)),
            closed: closed.map(at),
            reworks,
            pauses: Vec::new(),
        }
    }

    #[test]
    fn rates_count_what_they_say() {
        let cal = WorkingCalendar::default();
        let k = compute(
            &[
                // Accepted in 1 h, dispatched in 1 h, closed the same day.
                case(
                    "2026-11-30T10:00",
                    "2026-11-30T11:00",
                    Some("2026-11-30T16:00"),
                    0,
                ),
                // Accepted after 3 working hours (late), closed the next afternoon (late), reworked.
                case(
                    "2026-11-30T14:30",
                    "2026-11-30T15:00",
                    Some("2026-12-01T16:00"),
                    1,
                ),
                // Still open.
                case("2026-11-30T09:30", "2026-11-30T09:45", None, 0),
            ],
            &cal,
        );
        assert_eq!(k.cases, 3);
        assert_eq!(k.on_time_acceptance, Rate { hits: 2, of: 3 });
        assert_eq!(k.on_time_dispatch, Rate { hits: 3, of: 3 });
        assert_eq!(k.on_time_closure, Rate { hits: 1, of: 2 });
        assert_eq!(k.rework, Rate { hits: 1, of: 3 });
        assert_eq!(k.accurate_dispatch.value(), Some(2.0 / 3.0));
        // 09:00–16:00 is 5 working hours (lunch out); 09:00 → next day 16:00 is 12.
        assert_eq!(k.mean_handling_hours, Some(8.5));
        assert!(k.small_sample);
        assert_eq!(Rate::default().value(), None);
    }
}
