//! Field work: patrols, care visits and referrals, campaigns with their QR
//! cards, opinions and notices. Who may do what is decided by
//! `wangge_core::policy::field_scope`; every query here is limited to the
//! grids it answers.

pub mod campaigns;
pub mod patrols;
mod print;
pub mod visits;
pub mod voice;

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::Serialize;
use wangge_core::calendar::CHINA;
use wangge_core::org::Id;
use wangge_core::policy::{Actor, FieldAction, field_scope};

use crate::{App, AppError, Resource};

/// `[from, to)`: whole days in China time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: Timestamp,
    pub to: Timestamp,
    pub first_day: Date,
    pub last_day: Date,
}

impl Period {
    /// The days `first..=last`; `None` for either means the current
    /// month's first day or today. At most a year.
    pub fn of_days(first: Option<&str>, last: Option<&str>, today: Date) -> Result<Self, AppError> {
        let day = |field: &'static str, s: Option<&str>, default: Date| match s
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(default),
            Some(s) => s.parse::<Date>().map_err(|_| {
                AppError::invalid(
                    field,
                    "use a date like 2026-11-01",
                    "日期格式应为 2026-11-01",
                )
            }),
        };
        let first_day = day("from", first, today.first_of_month())?;
        let last_day = day("to", last, today)?;
        if last_day < first_day {
            return Err(AppError::invalid(
                "to",
                "the period ends before it starts",
                "结束日期早于开始日期",
            ));
        }
        if (last_day - first_day).get_days() > 366 {
            return Err(AppError::invalid(
                "to",
                "a period is at most a year",
                "统计区间最长一年",
            ));
        }
        let at = |d: Date| CHINA.to_timestamp(d.to_datetime(jiff::civil::Time::midnight()));
        let next = last_day
            .checked_add(1.day())
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(Self {
            from: at(first_day).map_err(|e| AppError::Internal(e.to_string()))?,
            to: at(next).map_err(|e| AppError::Internal(e.to_string()))?,
            first_day,
            last_day,
        })
    }
}

impl App {
    /// The grids whose field work `actor` may take `action` on; empty
    /// when none.
    pub(crate) async fn field_grids(
        &self,
        actor: &Actor,
        action: FieldAction,
    ) -> Result<Vec<Id>, AppError> {
        let units = field_scope(actor, action);
        if units.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self
            .grids_in_units(&units.grids, &units.communities, &units.streets)
            .await?
            .to_vec())
    }

    /// As [`App::field_grids`], but a role with no such work at all is
    /// answered 403.
    pub(crate) async fn field_grids_or_forbidden(
        &self,
        actor: &Actor,
        action: FieldAction,
    ) -> Result<Vec<Id>, AppError> {
        let grids = self.field_grids(actor, action).await?;
        if grids.is_empty() {
            return Err(AppError::Forbidden);
        }
        Ok(grids)
    }

    /// `Ok` when `grid` is among `grids`, else "not found" for `what`.
    pub(crate) fn in_grids(grids: &[Id], grid: Id, what: Resource) -> Result<(), AppError> {
        if grids.contains(&grid) {
            Ok(())
        } else {
            Err(AppError::NotFound(what))
        }
    }
}

/// Trims a free text and bounds its length.
pub(crate) fn text(field: &'static str, s: &str, max: usize) -> Result<String, AppError> {
    let t = s.trim();
    if t.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("at most {max} characters"),
            format!("不能超过 {max} 字"),
        ));
    }
    Ok(t.to_owned())
}

/// Parses a code of a text enum, or says which field is wrong.
pub(crate) fn code<T>(
    field: &'static str,
    s: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, AppError> {
    parse(s.trim()).ok_or_else(|| {
        AppError::invalid(
            field,
            format!("unknown value {s:?}"),
            format!("“{s}”不是可选的值"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_whole_days_in_china_time() {
        let today: Date = "2026-11-29".parse().unwrap();
        let p = Period::of_days(None, None, today).unwrap();
        assert_eq!(p.from.to_string(), "2026-10-31T16:00:00Z");
        assert_eq!(p.to.to_string(), "2026-11-29T16:00:00Z");
        assert!(Period::of_days(Some("2026-11-30"), Some("2026-11-01"), today).is_err());
        assert!(Period::of_days(Some("yesterday"), None, today).is_err());
        assert!(Period::of_days(Some("2024-01-01"), None, today).is_err());
    }
}
