//! Care visits (走访): the due list each worker keeps, visit records, major
//! changes, and the referrals (帮扶) needs become.

use std::collections::{BTreeMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::json;
use wangge_core::org::Id;
use wangge_core::policy::{Actor, FieldAction};
use wangge_core::visit::{
    self as rules, MajorChange, Need, NeedKind, Programme, ReferralStatus, Schedule, VisitMode,
    VisitRule, VisitStatus,
};
use wangge_store::field::visit::{self as store, NewReferral, NewVisit, RosterHousehold};
pub use wangge_store::field::visit::{Referral, ReferralEvent, Visit, VisitStat};
use wangge_store::{AuditEntry, ScopeFilter};

use super::{Period, code, text};
use crate::cases::CaseForm;
use crate::{App, AppError, Resource, require_admin};

/// A household on a worker's list, with why and when it is due.
#[derive(Debug, Clone, Serialize)]
pub struct CareItem {
    pub household_id: Id,
    pub grid_id: Id,
    pub address: String,
    pub members: Vec<String>,
    /// The member the rule is about, by name.
    pub because_of: Option<String>,
    pub last_visit: Option<Timestamp>,
    pub schedule: Schedule,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NeedForm {
    pub kind: String,
    #[serde(default)]
    pub detail: String,
    /// Refer the need to this programme (a referral, 已推荐).
    #[serde(default)]
    pub programme: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VisitForm {
    pub household_id: Id,
    #[serde(default)]
    pub resident_id: Option<Id>,
    /// When the visit was made; now when not given.
    #[serde(default)]
    pub visited_at: Option<Timestamp>,
    pub mode: String,
    #[serde(default)]
    pub visitors: String,
    pub situation: String,
    #[serde(default)]
    pub needs: Vec<NeedForm>,
}

/// A referral with its history.
#[derive(Debug, Clone, Serialize)]
pub struct ReferralDetail {
    pub referral: Referral,
    pub events: Vec<ReferralEvent>,
}

/// Visits per worker, and care-list coverage per grid, over a period.
#[derive(Debug, Clone, Serialize)]
pub struct VisitFigures {
    pub period: Period,
    pub workers: Vec<VisitStat>,
    pub grids: Vec<CareCoverage>,
}

/// Households on the care list (visited more often than the everyone
/// rule) and how many of them were visited in the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CareCoverage {
    pub grid_id: Id,
    pub households: i64,
    pub visited: i64,
    pub overdue: i64,
}

/// Visits may be recorded up to this long after they were made.
const LATE_RECORD: SignedDuration = SignedDuration::from_hours(24 * 30);

impl App {
    /// The visit rules in force: as edited, else the defaults.
    pub async fn visit_rules(&self) -> Result<Vec<VisitRule>, AppError> {
        let stored = store::rules(&**self.store()).await?;
        Ok(if stored.is_empty() {
            rules::default_rules()
        } else {
            stored
        })
    }

    /// Replaces the visit rules (administrators), audited.
    pub async fn set_visit_rules(
        &self,
        actor: &Actor,
        list: Vec<VisitRule>,
    ) -> Result<(), AppError> {
        require_admin(actor)?;
        rules::check_rules(&list).map_err(|m| AppError::invalid("rules", m.clone(), m))?;
        store::replace_rules(
            &**self.store(),
            &list,
            AuditEntry::new(
                self.now(),
                Some(actor.user_id),
                "visit_rules.replace",
                "visit_rules",
            )
            .detail(json!({ "rules": list.len() })),
        )
        .await?;
        Ok(())
    }

    async fn schedules(&self, roster: Vec<RosterHousehold>) -> Result<Vec<CareItem>, AppError> {
        let rules = self.visit_rules().await?;
        let (now, today) = (self.now(), self.today());
        Ok(roster
            .into_iter()
            .filter_map(|h| {
                let schedule = rules::schedule(&h.facts, &rules, now, today)?;
                let because_of = schedule.because_of.and_then(|id| {
                    h.facts
                        .members
                        .iter()
                        .find(|m| m.resident_id == id)
                        .map(|m| m.name.clone())
                });
                Some(CareItem {
                    household_id: h.household_id,
                    grid_id: h.grid_id,
                    address: h.address,
                    members: h.facts.members.iter().map(|m| m.name.clone()).collect(),
                    because_of,
                    last_visit: h.facts.last_visit,
                    schedule,
                })
            })
            .collect())
    }

    /// The actor's visit list: households of her grids in `statuses` (all
    /// when empty), overdue first, then by due date.
    pub async fn care_list(
        &self,
        actor: &Actor,
        statuses: &[VisitStatus],
        grid_id: Option<Id>,
    ) -> Result<Vec<CareItem>, AppError> {
        let mut grids = self
            .field_grids_or_forbidden(actor, FieldAction::Read)
            .await?;
        if let Some(g) = grid_id {
            Self::in_grids(&grids, g, Resource::Grid)?;
            grids = vec![g];
        }
        let roster = store::roster(&**self.store(), &grids, None).await?;
        let mut list: Vec<CareItem> = self
            .schedules(roster)
            .await?
            .into_iter()
            .filter(|i| statuses.is_empty() || statuses.contains(&i.schedule.status))
            .collect();
        list.sort_by_key(|i| {
            let rank = VisitStatus::ALL
                .iter()
                .position(|s| *s == i.schedule.status);
            (rank, i.schedule.due_at, i.household_id)
        });
        Ok(list)
    }

    /// Records a visit to a household of the actor's grids; needs with a
    /// programme become referrals (已推荐) in the same transaction. The
    /// visit is on time when made by the due date it answered.
    pub async fn record_visit(&self, actor: &Actor, form: VisitForm) -> Result<Visit, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Work)
            .await?;
        let household = self
            .store()
            .household(&ScopeFilter::grids(grids.clone()), form.household_id)
            .await?
            .ok_or(AppError::NotFound(Resource::Household))?;
        let roster = store::roster(&**self.store(), &grids, Some(household.id)).await?;
        if let Some(r) = form.resident_id
            && !roster
                .iter()
                .any(|h| h.facts.members.iter().any(|m| m.resident_id == r))
        {
            return Err(AppError::invalid(
                "resident_id",
                "the resident is not a member of the household",
                "该居民不是这户的成员",
            ));
        }
        let now = self.now();
        let visited_at = form.visited_at.unwrap_or(now);
        if visited_at > now + SignedDuration::from_mins(5) || visited_at < now - LATE_RECORD {
            return Err(AppError::invalid(
                "visited_at",
                "a visit is recorded within 30 days of it, never ahead",
                "走访时间不能晚于现在，也不能早于 30 天前",
            ));
        }
        let due_at = self
            .schedules(roster)
            .await?
            .into_iter()
            .next()
            .map(|i| i.schedule.due_at);
        let mode = code("mode", &form.mode, VisitMode::parse)?;
        let situation = text("situation", &form.situation, 2000)?;
        if situation.chars().count() < 2 {
            return Err(AppError::invalid(
                "situation",
                "say what you found",
                "请填写走访情况",
            ));
        }
        let mut needs = Vec::new();
        let mut referrals = Vec::new();
        for n in &form.needs {
            let kind = code("needs", &n.kind, NeedKind::parse)?;
            let detail = text("needs", &n.detail, 500)?;
            if let Some(p) = n.programme.as_deref().filter(|p| !p.trim().is_empty()) {
                referrals.push(NewReferral {
                    household_id: household.id,
                    resident_id: form.resident_id,
                    grid_id: household.grid_id,
                    need_kind: kind,
                    programme: code("needs", p, Programme::parse)?,
                    detail: detail.clone(),
                    created_by: actor.user_id,
                    at: now,
                });
            }
            needs.push(Need { kind, detail });
        }
        let id = store::record(
            &**self.store(),
            NewVisit {
                household_id: household.id,
                grid_id: household.grid_id,
                worker_id: actor.user_id,
                resident_id: form.resident_id,
                visited_at,
                mode,
                visitors: text("visitors", &form.visitors, 100)?,
                situation,
                needs,
                due_at,
                on_time: due_at.is_none_or(|d| visited_at <= d),
                created_at: now,
            },
            referrals,
            AuditEntry::new(now, Some(actor.user_id), "visit.record", "visit")
                .detail(json!({ "household_id": household.id, "mode": mode.as_str() })),
        )
        .await?;
        store::get(&**self.store(), id)
            .await?
            .ok_or(AppError::NotFound(Resource::Visit))
    }

    /// Records a major change in a resident's life: a visit is then due
    /// within 24 hours.
    pub async fn record_major_change(
        &self,
        actor: &Actor,
        resident_id: Id,
        kind: &str,
        note: &str,
    ) -> Result<Id, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Work)
            .await?;
        let resident = self
            .store()
            .resident(&ScopeFilter::grids(grids), resident_id)
            .await?
            .ok_or(AppError::NotFound(Resource::Resident))?;
        let kind = code("kind", kind, MajorChange::parse)?;
        let now = self.now();
        Ok(store::record_major_change(
            &**self.store(),
            resident.id,
            resident.household_id,
            kind,
            &text("note", note, 500)?,
            now,
            actor.user_id,
            AuditEntry::new(
                now,
                Some(actor.user_id),
                "resident.major_change",
                "resident",
            )
            .record(resident.id)
            .detail(json!({ "kind": kind.as_str() })),
        )
        .await?)
    }

    /// Visits to households of the grids in scope over a period.
    pub async fn visits(
        &self,
        actor: &Actor,
        household_id: Option<Id>,
        period: &Period,
    ) -> Result<Vec<Visit>, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Read)
            .await?;
        Ok(store::list(
            &**self.store(),
            &grids,
            household_id,
            period.from,
            period.to,
            1000,
        )
        .await?)
    }

    pub async fn visit(&self, actor: &Actor, id: Id) -> Result<Visit, AppError> {
        let grids = self.field_grids(actor, FieldAction::Read).await?;
        let visit = store::get(&**self.store(), id)
            .await?
            .ok_or(AppError::NotFound(Resource::Visit))?;
        let scope = ScopeFilter::grids(grids);
        // In scope when its household is (it may have moved grid since).
        self.store()
            .household(&scope, visit.household_id)
            .await?
            .ok_or(AppError::NotFound(Resource::Visit))?;
        Ok(visit)
    }

    pub async fn referrals(
        &self,
        actor: &Actor,
        status: Option<ReferralStatus>,
        household_id: Option<Id>,
    ) -> Result<Vec<Referral>, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Read)
            .await?;
        Ok(store::referrals(&**self.store(), &grids, status, household_id, 1000).await?)
    }

    async fn referral_in(&self, grids: &[Id], id: Id) -> Result<Referral, AppError> {
        let referral = store::referral_by_id(&**self.store(), id)
            .await?
            .ok_or(AppError::NotFound(Resource::Referral))?;
        let home = self
            .store()
            .household(&ScopeFilter::grids(grids.to_vec()), referral.household_id)
            .await?;
        home.map(|_| referral)
            .ok_or(AppError::NotFound(Resource::Referral))
    }

    pub async fn referral(&self, actor: &Actor, id: Id) -> Result<ReferralDetail, AppError> {
        let grids = self.field_grids(actor, FieldAction::Read).await?;
        let referral = self.referral_in(&grids, id).await?;
        Ok(ReferralDetail {
            events: store::referral_events(&**self.store(), id).await?,
            referral,
        })
    }

    /// Moves a referral on (submitted, approved or rejected with the
    /// reason, delivered), if it is still at `version`.
    pub async fn move_referral(
        &self,
        actor: &Actor,
        id: Id,
        version: i64,
        to: &str,
        note: &str,
    ) -> Result<ReferralDetail, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Work)
            .await?;
        let referral = self.referral_in(&grids, id).await?;
        let to = code("status", to, ReferralStatus::parse)?;
        let note = text("note", note, 500)?;
        rules::check_referral_move(referral.status, to, &note).map_err(|m| {
            AppError::not_now(
                format!(
                    "{} → {} is not allowed",
                    referral.status.as_str(),
                    to.as_str()
                ),
                m,
            )
        })?;
        let now = self.now();
        store::move_referral(
            &**self.store(),
            id,
            version,
            to,
            &note,
            actor.user_id,
            now,
            AuditEntry::new(now, Some(actor.user_id), "referral.move", "referral")
                .record(id)
                .detail(json!({ "from": referral.status.as_str(), "to": to.as_str() })),
        )
        .await?;
        self.referral(actor, id).await
    }

    /// Turns a referral's need into a case (民生诉求) at the household's
    /// address, once.
    pub async fn referral_to_case(&self, actor: &Actor, id: Id) -> Result<Id, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Work)
            .await?;
        let referral = self.referral_in(&grids, id).await?;
        if let Some(case) = referral.case_id {
            return Ok(case);
        }
        let form = CaseForm {
            category: "C03".into(),
            description: format!(
                "走访发现{}需求：{}（帮扶项目：{}）",
                referral.need_kind.label(wangge_core::Lang::Zh),
                referral.detail,
                referral.programme.label(wangge_core::Lang::Zh)
            ),
            lat: None,
            lon: None,
            address: referral.address.clone(),
            urgency: "normal".into(),
            source: Some("patrol".into()),
            answers: Default::default(),
            caller_name: None,
            photos: Vec::new(),
            patrol_id: None,
        };
        let (case, _) = self
            .report_case(actor, &form, Some(&format!("referral-{id}")))
            .await?;
        store::set_referral_case(&**self.store(), id, referral.version, case.id, self.now())
            .await?;
        Ok(case.id)
    }

    /// Visits and their on-time rate per worker; care-list coverage per grid.
    pub async fn visit_figures(
        &self,
        actor: &Actor,
        period: Period,
    ) -> Result<VisitFigures, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Read)
            .await?;
        let workers = store::stats(&**self.store(), &grids, period.from, period.to).await?;
        let visited: HashSet<Id> = store::list(
            &**self.store(),
            &grids,
            None,
            period.from,
            period.to,
            i64::MAX,
        )
        .await?
        .into_iter()
        .map(|v| v.household_id)
        .collect();
        let roster = store::roster(&**self.store(), &grids, None).await?;
        let mut by_grid: BTreeMap<Id, CareCoverage> = grids
            .iter()
            .map(|g| {
                (
                    *g,
                    CareCoverage {
                        grid_id: *g,
                        households: 0,
                        visited: 0,
                        overdue: 0,
                    },
                )
            })
            .collect();
        for item in self.schedules(roster).await? {
            if item.schedule.because_of.is_none() && item.schedule.major_change.is_none() {
                continue;
            }
            if let Some(c) = by_grid.get_mut(&item.grid_id) {
                c.households += 1;
                c.visited += i64::from(visited.contains(&item.household_id));
                c.overdue += i64::from(item.schedule.status == VisitStatus::Overdue);
            }
        }
        Ok(VisitFigures {
            period,
            workers,
            grids: by_grid.into_values().collect(),
        })
    }
}
