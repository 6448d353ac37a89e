//! Patrols (巡查): start, track, check in, inspect, end; figures per worker
//! and grid.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use wangge_core::GeoPoint;
use wangge_core::org::Id;
use wangge_core::patrol::{self as rules, ItemAnswer, TrackPoint};
use wangge_core::policy::{Actor, FieldAction};
use wangge_store::AuditEntry;
use wangge_store::ScopeFilter;
use wangge_store::field::patrol::{self as store, NewCheckin, NewInspection};

pub use wangge_store::field::patrol::{Checkin, Coverage, Inspection, Patrol, PatrolStat};

use super::{Period, text};
use crate::cases::CaseForm;
use crate::{App, AppError, Resource};

/// A patrol with its track, check-ins and the cases reported on it.
#[derive(Debug, Clone, Serialize)]
pub struct PatrolDetail {
    pub patrol: Patrol,
    pub track: Vec<TrackPoint>,
    pub checkins: Vec<Checkin>,
    pub case_ids: Vec<Id>,
}

/// One fix as a phone sends it.
#[derive(Debug, Clone, Deserialize)]
pub struct FixForm {
    pub seq: i64,
    pub at: Timestamp,
    pub lat: f64,
    pub lon: f64,
    #[serde(default)]
    pub accuracy: Option<f64>,
}

/// What a batch upload did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrackReceipt {
    /// Fixes new in this batch (a resent batch adds none).
    pub accepted: u64,
    pub points: i64,
    pub distance_m: f64,
}

/// Where a check-in was made: one of a building, a household or a business.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CheckinForm {
    #[serde(default)]
    pub patrol_id: Option<Id>,
    #[serde(default)]
    pub building_id: Option<Id>,
    #[serde(default)]
    pub household_id: Option<Id>,
    #[serde(default)]
    pub business_id: Option<Id>,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InspectionForm {
    pub answers: Vec<ItemAnswer>,
    #[serde(default)]
    pub patrol_id: Option<Id>,
    /// File a case (安全隐患) for every failed item.
    #[serde(default)]
    pub report_failures: bool,
}

/// Patrolling and coverage of the grids in scope over a period.
#[derive(Debug, Clone, Serialize)]
pub struct PatrolFigures {
    pub period: Period,
    pub workers: Vec<PatrolStat>,
    pub coverage: Vec<Coverage>,
}

impl App {
    /// The actor's own patrol, for recording on it.
    pub(crate) async fn own_patrol(&self, actor: &Actor, id: Id) -> Result<Patrol, AppError> {
        match store::get(&**self.store(), id).await? {
            Some(p) if p.worker_id == actor.user_id => Ok(p),
            _ => Err(AppError::NotFound(Resource::Patrol)),
        }
    }

    /// Starts a patrol of one of the actor's grids (her only grid when
    /// `grid_id` is not given); one at a time.
    pub async fn start_patrol(
        &self,
        actor: &Actor,
        grid_id: Option<Id>,
        note: &str,
    ) -> Result<Patrol, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Work)
            .await?;
        let grid = match grid_id {
            Some(g) => {
                Self::in_grids(&grids, g, Resource::Grid)?;
                g
            }
            None if grids.len() == 1 => grids[0],
            None => {
                return Err(AppError::invalid(
                    "grid_id",
                    "say which grid you patrol",
                    "请选择巡查的网格",
                ));
            }
        };
        if let Some(open) = store::open_of(&**self.store(), actor.user_id).await? {
            return Err(AppError::not_now(
                format!("patrol {} is still going; end it first", open.id),
                "您有一次巡查尚未结束，请先结束",
            ));
        }
        let note = text("note", note, 200)?;
        let id = store::start(&**self.store(), actor.user_id, grid, self.now(), &note).await?;
        store::get(&**self.store(), id)
            .await?
            .ok_or(AppError::NotFound(Resource::Patrol))
    }

    /// The actor's patrol going on, if any.
    pub async fn current_patrol(&self, actor: &Actor) -> Result<Option<Patrol>, AppError> {
        Ok(store::open_of(&**self.store(), actor.user_id).await?)
    }

    /// Adds a batch of fixes. Fixes are numbered by the phone, so a batch
    /// sent again (its answer lost) adds nothing; batches may arrive late
    /// and out of order, and after the patrol ended (sent once back online).
    pub async fn upload_track(
        &self,
        actor: &Actor,
        patrol_id: Id,
        fixes: Vec<FixForm>,
    ) -> Result<TrackReceipt, AppError> {
        let patrol = self.own_patrol(actor, patrol_id).await?;
        let mut points = Vec::with_capacity(fixes.len());
        for f in fixes {
            let point = GeoPoint::new(f.lon, f.lat).map_err(|e| {
                AppError::invalid(
                    "points",
                    e.to_string(),
                    format!("轨迹点 {} 的坐标无效", f.seq),
                )
            })?;
            points.push(TrackPoint {
                seq: f.seq,
                at: f.at,
                point,
                accuracy_m: f.accuracy.filter(|a| a.is_finite() && *a >= 0.0),
            });
        }
        rules::check_batch(&points, patrol.started_at, self.now())
            .map_err(|e| AppError::invalid("points", e.to_string(), e.zh()))?;
        let accepted = store::add_points(&**self.store(), patrol_id, &points).await?;
        let track = store::points(&**self.store(), patrol_id).await?;
        let distance_m = rules::track_length_m(&track);
        if accepted > 0 {
            store::set_distance(&**self.store(), patrol_id, distance_m).await?;
        }
        Ok(TrackReceipt {
            accepted,
            points: track.len() as i64,
            distance_m,
        })
    }

    /// Ends the actor's patrol, measuring its track.
    pub async fn end_patrol(&self, actor: &Actor, patrol_id: Id) -> Result<Patrol, AppError> {
        let patrol = self.own_patrol(actor, patrol_id).await?;
        if patrol.ended_at.is_some() {
            return Err(AppError::not_now(
                "the patrol has ended",
                "这次巡查已经结束",
            ));
        }
        let track = store::points(&**self.store(), patrol_id).await?;
        store::end(
            &**self.store(),
            patrol_id,
            self.now(),
            rules::track_length_m(&track),
        )
        .await?;
        store::get(&**self.store(), patrol_id)
            .await?
            .ok_or(AppError::NotFound(Resource::Patrol))
    }

    /// A patrol of a grid in scope, with its track, check-ins and cases.
    pub async fn patrol(&self, actor: &Actor, id: Id) -> Result<PatrolDetail, AppError> {
        let grids = self.field_grids(actor, FieldAction::Read).await?;
        let patrol = store::get(&**self.store(), id)
            .await?
            .filter(|p| grids.contains(&p.grid_id) || p.worker_id == actor.user_id)
            .ok_or(AppError::NotFound(Resource::Patrol))?;
        Ok(PatrolDetail {
            track: store::points(&**self.store(), id).await?,
            checkins: store::checkins(&**self.store(), id).await?,
            case_ids: store::cases_of(&**self.store(), id).await?,
            patrol,
        })
    }

    /// Patrols of the grids in scope (of one worker) over a period.
    pub async fn patrols(
        &self,
        actor: &Actor,
        worker: Option<Id>,
        period: &Period,
    ) -> Result<Vec<Patrol>, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Read)
            .await?;
        Ok(store::list(&**self.store(), &grids, worker, period.from, period.to, 500).await?)
    }

    /// Checks in at a building, household or business of the actor's
    /// grids, on a patrol of hers or not.
    pub async fn check_in(&self, actor: &Actor, form: CheckinForm) -> Result<Id, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Work)
            .await?;
        if let Some(p) = form.patrol_id {
            self.own_patrol(actor, p).await?;
        }
        let scope = ScopeFilter::grids(grids.clone());
        let grid_id = match (form.building_id, form.household_id, form.business_id) {
            (Some(b), None, None) => {
                let building = self
                    .store()
                    .building(b)
                    .await?
                    .ok_or(AppError::NotFound(Resource::Building))?;
                Self::in_grids(&grids, building.grid_id, Resource::Building)?;
                building.grid_id
            }
            (None, Some(h), None) => {
                self.store()
                    .household(&scope, h)
                    .await?
                    .ok_or(AppError::NotFound(Resource::Household))?
                    .grid_id
            }
            (None, None, Some(s)) => {
                self.store()
                    .business(&scope, s)
                    .await?
                    .ok_or(AppError::NotFound(Resource::Business))?
                    .grid_id
            }
            _ => {
                return Err(AppError::invalid(
                    "place",
                    "check in at one building, household or business",
                    "请选择一处楼栋、住户或商户签到",
                ));
            }
        };
        Ok(store::check_in(
            &**self.store(),
            NewCheckin {
                patrol_id: form.patrol_id,
                worker_id: actor.user_id,
                grid_id,
                at: self.now(),
                building_id: form.building_id,
                household_id: form.household_id,
                business_id: form.business_id,
                note: text("note", &form.note, 200)?,
            },
        )
        .await?)
    }

    /// Records a business's safety check; with `report_failures`, each
    /// failed item becomes a case (安全隐患) at the business's address.
    pub async fn inspect_business(
        &self,
        actor: &Actor,
        business_id: Id,
        form: InspectionForm,
    ) -> Result<Inspection, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Work)
            .await?;
        let business = self
            .store()
            .business(&ScopeFilter::grids(grids), business_id)
            .await?
            .ok_or(AppError::NotFound(Resource::Business))?;
        if let Some(p) = form.patrol_id {
            self.own_patrol(actor, p).await?;
        }
        let answers = rules::check_inspection(form.answers)
            .map_err(|e| AppError::invalid("answers", e.to_string(), e.zh()))?;
        let failed: Vec<ItemAnswer> = rules::failures(&answers).cloned().collect();
        let now = self.now();
        let id = store::inspect(
            &**self.store(),
            NewInspection {
                business_id,
                grid_id: business.grid_id,
                inspector_id: actor.user_id,
                patrol_id: form.patrol_id,
                at: now,
                answers,
                failed: failed.len() as i64,
            },
            AuditEntry::new(now, Some(actor.user_id), "business.inspect", "inspection")
                .detail(json!({ "business_id": business_id, "failed": failed.len() })),
        )
        .await?;
        if form.report_failures && !failed.is_empty() {
            let location = self.business_location(business.dwelling_id).await?;
            let mut case_ids = Vec::new();
            for f in &failed {
                let form = CaseForm {
                    category: rules::HAZARD_CATEGORY.into(),
                    description: format!(
                        "{}安全检查不合格：{}。{}",
                        business.name,
                        f.item.label(wangge_core::Lang::Zh),
                        f.note
                    ),
                    lat: location.map(|p| p.lat),
                    lon: location.map(|p| p.lon),
                    address: business.address.clone(),
                    urgency: "normal".into(),
                    source: Some("patrol".into()),
                    answers: Default::default(),
                    caller_name: None,
                    photos: Vec::new(),
                    patrol_id: form.patrol_id,
                };
                let key = format!("inspection-{id}-{}", f.item.as_str());
                let (case, _) = self.report_case(actor, &form, Some(&key)).await?;
                case_ids.push(case.id);
            }
            store::set_inspection_cases(&**self.store(), id, &case_ids).await?;
        }
        store::inspection_by_id(&**self.store(), id)
            .await?
            .ok_or(AppError::NotFound(Resource::Business))
    }

    /// The position of a business's building, when it has a dwelling.
    async fn business_location(&self, dwelling: Option<Id>) -> Result<Option<GeoPoint>, AppError> {
        let Some(d) = dwelling else { return Ok(None) };
        Ok(store::dwelling_position(&**self.store(), d).await?)
    }

    /// Safety checks of a business in scope, newest first.
    pub async fn inspections(
        &self,
        actor: &Actor,
        business_id: Id,
    ) -> Result<Vec<Inspection>, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Read)
            .await?;
        self.store()
            .business(&ScopeFilter::grids(grids), business_id)
            .await?
            .ok_or(AppError::NotFound(Resource::Business))?;
        Ok(store::inspections_of(&**self.store(), business_id).await?)
    }

    /// Patrol days, minutes and distance per worker, and household and
    /// business coverage per grid, over a period.
    pub async fn patrol_figures(
        &self,
        actor: &Actor,
        period: Period,
    ) -> Result<PatrolFigures, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Read)
            .await?;
        Ok(PatrolFigures {
            workers: store::stats(&**self.store(), &grids, period.from, period.to).await?,
            coverage: store::coverage(&**self.store(), &grids, period.from, period.to).await?,
            period,
        })
    }
}
