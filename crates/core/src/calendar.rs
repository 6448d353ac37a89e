//! The working calendar and the case clock.
//!
//! Time limits are counted in working hours, working days or calendar
//! hours. A working day is a weekday that is not a public holiday, or a
//! make-up workday (调休上班) even if it falls on a weekend; its working
//! time is a list of periods (default 08:30–12:00 and 14:00–17:30, China
//! time). "N working days" means N days' worth of working time, so a case
//! reported on Friday at 16:00 with one working day is due on the next
//! working day at 16:00. Time while a case is hung up (挂账) does not count.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::Offset;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;

/// China Standard Time; mainland China has one zone and no daylight saving.
pub const CHINA: Offset = Offset::constant(8);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("working periods must be non-empty, ordered and not overlapping")]
    BadPeriods,
    #[error("{0} is both a holiday and a make-up workday")]
    Conflict(Date),
}

/// Workdays, holidays and working hours, as data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingCalendar {
    periods: Vec<(Time, Time)>,
    holidays: BTreeSet<Date>,
    makeup_workdays: BTreeSet<Date>,
}

impl Default for WorkingCalendar {
    /// Weekends only, 08:30–12:00 and 14:00–17:30.
    fn default() -> Self {
        Self {
            periods: default_periods(),
            holidays: BTreeSet::new(),
            makeup_workdays: BTreeSet::new(),
        }
    }
}

fn default_periods() -> Vec<(Time, Time)> {
    vec![
        (Time::constant(8, 30, 0, 0), Time::constant(12, 0, 0, 0)),
        (Time::constant(14, 0, 0, 0), Time::constant(17, 30, 0, 0)),
    ]
}

impl WorkingCalendar {
    pub fn new(
        periods: Vec<(Time, Time)>,
        holidays: impl IntoIterator<Item = Date>,
        makeup_workdays: impl IntoIterator<Item = Date>,
    ) -> Result<Self, CalendarError> {
        let ordered = !periods.is_empty()
            && periods.iter().all(|(a, b)| a < b)
            && periods.windows(2).all(|w| w[0].1 <= w[1].0);
        if !ordered {
            return Err(CalendarError::BadPeriods);
        }
        let holidays: BTreeSet<Date> = holidays.into_iter().collect();
        let makeup_workdays: BTreeSet<Date> = makeup_workdays.into_iter().collect();
        if let Some(d) = holidays.intersection(&makeup_workdays).next() {
            return Err(CalendarError::Conflict(*d));
        }
        Ok(Self {
            periods,
            holidays,
            makeup_workdays,
        })
    }

    /// The default working hours with the given holidays and make-up days.
    pub fn with_days(
        holidays: impl IntoIterator<Item = Date>,
        makeup_workdays: impl IntoIterator<Item = Date>,
    ) -> Result<Self, CalendarError> {
        Self::new(default_periods(), holidays, makeup_workdays)
    }

    pub fn is_workday(&self, d: Date) -> bool {
        if self.makeup_workdays.contains(&d) {
            return true;
        }
        if self.holidays.contains(&d) {
            return false;
        }
        !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
    }

    /// Working time in one working day.
    pub fn day_length(&self) -> SignedDuration {
        self.periods.iter().map(|(a, b)| b.duration_since(*a)).sum()
    }

    fn local(ts: Timestamp) -> DateTime {
        CHINA.to_datetime(ts)
    }

    fn instant(dt: DateTime) -> Timestamp {
        CHINA.to_timestamp(dt).unwrap_or(Timestamp::MAX)
    }

    /// Working periods of day `d` as instants (none on a rest day).
    fn periods_of(&self, d: Date) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        let work = self.is_workday(d);
        self.periods
            .iter()
            .filter(move |_| work)
            .map(move |(a, b)| {
                (
                    Self::instant(d.to_datetime(*a)),
                    Self::instant(d.to_datetime(*b)),
                )
            })
    }

    /// Working time within `[from, to)`.
    pub fn working_time_between(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        if to <= from {
            return SignedDuration::ZERO;
        }
        let mut total = SignedDuration::ZERO;
        let (first, last) = (Self::local(from).date(), Self::local(to).date());
        let mut d = first;
        // Whole weeks could be skipped arithmetically; limits are days, so a walk is cheap.
        while d <= last {
            for (a, b) in self.periods_of(d) {
                let (s, e) = (a.max(from), b.min(to));
                if s < e {
                    total += e.duration_since(s);
                }
            }
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => break,
            }
        }
        total
    }

    /// The instant at which `amount` of working time has passed since `start`.
    pub fn add_working_time(&self, start: Timestamp, amount: SignedDuration) -> Timestamp {
        if amount <= SignedDuration::ZERO {
            return start;
        }
        let mut remaining = amount;
        let mut d = Self::local(start).date();
        // A limit of years of working time is not a case limit; stop at ten.
        for _ in 0..3660 {
            for (a, b) in self.periods_of(d) {
                let s = a.max(start);
                if s >= b {
                    continue;
                }
                let available = b.duration_since(s);
                if available >= remaining {
                    return s + remaining;
                }
                remaining -= available;
            }
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => break,
            }
        }
        Timestamp::MAX
    }
}

/// How a time limit is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unit", content = "amount", rename_all = "snake_case")]
pub enum Limit {
    WorkingHours(i64),
    WorkingDays(i64),
    CalendarHours(i64),
}

/// A stretch of time the clock stood still (挂账); `to` open while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    pub from: Timestamp,
    pub to: Option<Timestamp>,
}

/// Traffic light of a step or a whole case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Green,
    Yellow,
    Red,
}

impl Limit {
    fn counts_working_time(self) -> bool {
        !matches!(self, Limit::CalendarHours(_))
    }

    /// The limit as an amount of (working or calendar) time.
    pub fn amount(self, cal: &WorkingCalendar) -> SignedDuration {
        match self {
            Limit::WorkingHours(h) | Limit::CalendarHours(h) => SignedDuration::from_hours(h),
            Limit::WorkingDays(d) => cal.day_length() * (d as i32),
        }
    }

    /// Time that counts towards the limit in `[from, to)`.
    fn counted(self, cal: &WorkingCalendar, from: Timestamp, to: Timestamp) -> SignedDuration {
        if to <= from {
            SignedDuration::ZERO
        } else if self.counts_working_time() {
            cal.working_time_between(from, to)
        } else {
            to.duration_since(from)
        }
    }

    /// Counted time from `start` to `now`, less the pauses.
    pub fn elapsed(
        self,
        cal: &WorkingCalendar,
        start: Timestamp,
        pauses: &[Pause],
        now: Timestamp,
    ) -> SignedDuration {
        let mut total = self.counted(cal, start, now);
        for p in pauses {
            let from = p.from.max(start);
            let to = p.to.unwrap_or(now).min(now);
            total -= self.counted(cal, from, to);
        }
        total.max(SignedDuration::ZERO)
    }

    /// When the limit runs out, given the pauses so far; `None` while the
    /// clock is paused.
    pub fn deadline(
        self,
        cal: &WorkingCalendar,
        start: Timestamp,
        pauses: &[Pause],
    ) -> Option<Timestamp> {
        let mut pauses: Vec<Pause> = pauses.to_vec();
        pauses.sort_by_key(|p| p.from);
        let mut remaining = self.amount(cal);
        let mut t = start;
        let add = |t: Timestamp, amount: SignedDuration| {
            if self.counts_working_time() {
                cal.add_working_time(t, amount)
            } else {
                t + amount
            }
        };
        for p in pauses {
            let to = p.to?;
            if to <= t {
                continue;
            }
            let before = self.counted(cal, t, p.from.max(t));
            if before >= remaining {
                return Some(add(t, remaining));
            }
            remaining -= before;
            t = to;
        }
        Some(add(t, remaining))
    }

    /// Green below 80 % of the limit, yellow up to 100 %, red beyond.
    pub fn light(
        self,
        cal: &WorkingCalendar,
        start: Timestamp,
        pauses: &[Pause],
        now: Timestamp,
    ) -> Light {
        let limit = self.amount(cal).as_secs_f64();
        if limit <= 0.0 {
            return Light::Red;
        }
        let used = self.elapsed(cal, start, pauses, now).as_secs_f64() / limit;
        if used < 0.8 {
            Light::Green
        } else if used <= 1.0 {
            Light::Yellow
        } else {
            Light::Red
        }
    }

    /// "due in 2 working days" / "overdue by 3 working hours", as a resident reads it.
    pub fn describe(
        self,
        cal: &WorkingCalendar,
        start: Timestamp,
        pauses: &[Pause],
        now: Timestamp,
        lang: Lang,
    ) -> String {
        if pauses.iter().any(|p| p.to.is_none()) {
            return match lang {
                Lang::Zh => "暂停计时".to_owned(),
                Lang::En => "clock paused".to_owned(),
            };
        }
        let left = self.amount(cal) - self.elapsed(cal, start, pauses, now);
        let overdue = left < SignedDuration::ZERO;
        let left = left.abs();
        let (n, unit_zh, unit_en) = match self {
            Limit::WorkingDays(_) if left >= cal.day_length() => {
                (ceil_div(left, cal.day_length()), "个工作日", "working day")
            }
            Limit::CalendarHours(_) => (
                ceil_div(left, SignedDuration::from_hours(1)),
                "小时",
                "hour",
            ),
            _ => (
                ceil_div(left, SignedDuration::from_hours(1)),
                "个工作小时",
                "working hour",
            ),
        };
        let plural = if n == 1 { "" } else { "s" };
        match (lang, overdue) {
            (Lang::Zh, false) => format!("还剩 {n} {unit_zh}"),
            (Lang::Zh, true) => format!("已超期 {n} {unit_zh}"),
            (Lang::En, false) => format!("due in {n} {unit_en}{plural}"),
            (Lang::En, true) => format!("overdue by {n} {unit_en}{plural}"),
        }
    }
}

fn ceil_div(a: SignedDuration, b: SignedDuration) -> i64 {
    let (a, b) = (a.as_secs(), b.as_secs().max(1));
    (a + b - 1) / b
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    /// 2026's official arrangement (shared/data/cn-holidays-2026.json).
    fn cal2026() -> WorkingCalendar {
        let holidays = [
            ("2026-01-01", "2026-01-03"),
            ("2026-02-15", "2026-02-23"),
            ("2026-04-04", "2026-04-06"),
            ("2026-05-01", "2026-05-05"),
            ("2026-06-19", "2026-06-21"),
            ("2026-09-25", "2026-09-27"),
            ("2026-10-01", "2026-10-07"),
        ];
        let mut days = Vec::new();
        for (from, to) in holidays {
            let (mut d, to): (Date, Date) = (from.parse().unwrap(), to.parse().unwrap());
            while d <= to {
                days.push(d);
                d = d.tomorrow().unwrap();
            }
        }
        let makeup = [
            "2026-01-04",
            "2026-02-14",
            "2026-02-28",
            "2026-05-09",
            "2026-09-20",
            "2026-10-10",
        ]
        .map(|d| d.parse::<Date>().unwrap());
        WorkingCalendar::with_days(days, makeup).unwrap()
    }

    /// An instant in China time.
    fn at(s: &str) -> Timestamp {
        CHINA.to_timestamp(s.parse::<DateTime>().unwrap()).unwrap()
    }

    #[test]
    fn workdays_follow_weekends_holidays_and_makeup_days() {
        let c = cal2026();
        assert!(c.is_workday(date(2026, 11, 30)), "a Monday");
        assert!(!c.is_workday(date(2026, 11, 29)), "a Sunday");
        assert!(!c.is_workday(date(2026, 10, 5)), "National Day, a Monday");
        assert!(c.is_workday(date(2026, 10, 10)), "make-up Saturday");
        assert!(
            c.is_workday(date(2026, 2, 14)),
            "make-up Saturday before Spring Festival"
        );
        assert!(!c.is_workday(date(2026, 2, 16)));
        assert_eq!(c.day_length(), SignedDuration::from_hours(7));
    }

    #[test]
    fn working_time_skips_nights_lunch_and_weekends() {
        let c = cal2026();
        // Friday 16:00 → Monday 10:00: 1.5 h on Friday + 1.5 h on Monday.
        assert_eq!(
            c.working_time_between(at("2026-11-27T16:00"), at("2026-11-30T10:00")),
            SignedDuration::from_hours(3)
        );
        // Lunch does not count.
        assert_eq!(
            c.working_time_between(at("2026-11-30T11:00"), at("2026-11-30T15:00")),
            SignedDuration::from_hours(2)
        );
        assert_eq!(
            c.working_time_between(at("2026-11-30T15:00"), at("2026-11-30T11:00")),
            SignedDuration::ZERO
        );
    }

    #[test]
    fn a_limit_runs_across_a_weekend() {
        let c = cal2026();
        // "Dirty road: 5 working hours", reported Friday 16:00: 1.5 h on
        // Friday, 3.5 h on Monday morning.
        let due = Limit::WorkingHours(5)
            .deadline(&c, at("2026-11-27T16:00"), &[])
            .unwrap();
        assert_eq!(due, at("2026-11-30T12:00"));
        // "Exposed garbage: 1 working day" from Friday 16:00 → Monday 16:00.
        let due = Limit::WorkingDays(1)
            .deadline(&c, at("2026-11-27T16:00"), &[])
            .unwrap();
        assert_eq!(due, at("2026-11-30T16:00"));
        // Reported at night: the clock starts at 08:30.
        let due = Limit::WorkingHours(2)
            .deadline(&c, at("2026-11-30T22:00"), &[])
            .unwrap();
        assert_eq!(due, at("2026-12-01T10:30"));
        // "Manhole cover on site within 2 h": calendar hours run through the night.
        let due = Limit::CalendarHours(2)
            .deadline(&c, at("2026-11-28T23:30"), &[])
            .unwrap();
        assert_eq!(due, at("2026-11-29T01:30"));
    }

    #[test]
    fn a_limit_runs_across_the_national_day_holiday_and_its_makeup_day() {
        let c = cal2026();
        // Wednesday 30 September 17:00, 2 working days (14 h): 0.5 h that
        // day, nothing from 1 to 7 October, 7 h on Thursday the 8th, then
        // 6.5 h on Friday the 9th (3.5 h + 3 h after lunch).
        let due = Limit::WorkingDays(2)
            .deadline(&c, at("2026-09-30T17:00"), &[])
            .unwrap();
        assert_eq!(due, at("2026-10-09T17:00"));
        // Friday 9 October 17:00, 1 working day: the make-up Saturday counts.
        let due = Limit::WorkingDays(1)
            .deadline(&c, at("2026-10-09T17:00"), &[])
            .unwrap();
        assert_eq!(due, at("2026-10-10T17:00"));
        // Without the make-up day it would be Monday.
        let plain = WorkingCalendar::default();
        let due = Limit::WorkingDays(1)
            .deadline(&plain, at("2026-10-09T17:00"), &[])
            .unwrap();
        assert_eq!(due, at("2026-10-12T17:00"));
    }

    #[test]
    fn a_hang_up_stops_the_clock() {
        let c = cal2026();
        let start = at("2026-11-30T09:00");
        // Hung up from 10:00 Monday to 10:00 Wednesday: two working days do not count.
        let pauses = [Pause {
            from: at("2026-11-30T10:00"),
            to: Some(at("2026-12-02T10:00")),
        }];
        let due = Limit::WorkingHours(5).deadline(&c, start, &pauses).unwrap();
        // 1 h before the pause, 4 h after: Wednesday 10:00 + 4 h (lunch) → 16:00.
        assert_eq!(due, at("2026-12-02T16:00"));
        let now = at("2026-12-02T11:00");
        assert_eq!(
            Limit::WorkingHours(5).elapsed(&c, start, &pauses, now),
            SignedDuration::from_hours(2)
        );
        // While it is hung up there is no deadline and the light does not move.
        let open = [Pause {
            from: at("2026-11-30T10:00"),
            to: None,
        }];
        assert_eq!(Limit::WorkingHours(5).deadline(&c, start, &open), None);
        let later = at("2026-12-09T10:00");
        assert_eq!(
            Limit::WorkingHours(5).elapsed(&c, start, &open, later),
            SignedDuration::from_hours(1)
        );
        assert_eq!(
            Limit::WorkingHours(5).describe(&c, start, &open, later, Lang::Zh),
            "暂停计时"
        );
    }

    #[test]
    fn lights_turn_at_80_and_100_percent() {
        let c = cal2026();
        let start = at("2026-11-30T08:30");
        let l = Limit::WorkingHours(10);
        assert_eq!(
            l.light(&c, start, &[], at("2026-11-30T15:00")),
            Light::Green,
            "4.5 h of 10"
        );
        assert_eq!(
            l.light(&c, start, &[], at("2026-12-01T09:30")),
            Light::Yellow,
            "8 h of 10"
        );
        assert_eq!(
            l.light(&c, start, &[], at("2026-12-01T11:30")),
            Light::Yellow,
            "exactly 10 h"
        );
        assert_eq!(l.light(&c, start, &[], at("2026-12-01T11:31")), Light::Red);
    }

    #[test]
    fn residents_read_due_in_and_overdue_by() {
        let c = cal2026();
        let start = at("2026-11-30T08:30");
        let l = Limit::WorkingDays(3);
        assert_eq!(
            l.describe(&c, start, &[], at("2026-11-30T09:30"), Lang::Zh),
            "还剩 3 个工作日"
        );
        assert_eq!(
            l.describe(&c, start, &[], at("2026-12-01T17:30"), Lang::En),
            "due in 1 working day"
        );
        assert_eq!(
            l.describe(&c, start, &[], at("2026-12-02T15:00"), Lang::En),
            "due in 3 working hours"
        );
        assert_eq!(
            l.describe(&c, start, &[], at("2026-12-07T17:30"), Lang::Zh),
            "已超期 3 个工作日"
        );
        assert_eq!(
            l.describe(&c, start, &[], at("2026-12-03T10:30"), Lang::En),
            "overdue by 2 working hours"
        );
    }

    #[test]
    fn bad_calendars_are_refused() {
        let noon = Time::constant(12, 0, 0, 0);
        assert_eq!(
            WorkingCalendar::new(vec![(noon, noon)], [], []),
            Err(CalendarError::BadPeriods)
        );
        let d = date(2026, 10, 10);
        assert_eq!(
            WorkingCalendar::with_days([d], [d]),
            Err(CalendarError::Conflict(d))
        );
    }
}
