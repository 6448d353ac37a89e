//! Cases: intake, the workflow, the clock, and what each person sees.
//!
//! Who may see a case: staff whose org scope holds its grid, the
//! department it is dispatched to, and its reporter. Who may act: the
//! workflow table in `wangge_core::workflow`, given that standing.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use wangge_core::GeoPoint;
use wangge_core::calendar::{Light, Limit, Pause, WorkingCalendar};
use wangge_core::category::CategorySpec;
use wangge_core::i18n::{Lang, Localized};
use wangge_core::org::Id;
use wangge_core::policy::{Action as RegisterAction, Actor, Role, register_scope};
use wangge_core::workflow::{
    self, Action, CaseFacts, CaseState, ClockEffect, Level, Pending, Standing, Step, Visibility,
};
use wangge_store::{
    AuditEntry, CaseChange, CaseEvent, CaseQuery, CaseRecord, CategoryRecord, Effects, NewCase,
    PauseChange, StoreError,
};

use crate::App;
use crate::error::{AppError, Resource};
use crate::privacy::random_bytes;
use crate::register::Page;

/// The standard departments, created at first start (admins add more).
pub const DEPARTMENTS: &[(&str, &str)] = &[
    ("roads", "市政道路"),
    ("urban", "城管执法"),
    ("green", "园林绿化"),
    ("water", "供排水"),
    ("civil", "民政"),
    ("jobs", "人社"),
    ("education", "教育"),
    ("health", "卫健"),
];

const CATEGORY_SEED: &str = include_str!("../../../data/categories.json");
const CALENDAR_SEED: &str = include_str!("../../../data/cn-holidays-2026.json");

/// How long reference data may be served from memory.
const REFERENCE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// Reference data every case read needs.
#[derive(Debug)]
pub struct Reference {
    pub categories: Vec<CategoryRecord>,
    pub departments: Vec<wangge_store::Department>,
    pub calendar: WorkingCalendar,
    pub webhooks: Vec<wangge_store::Webhook>,
    pub routing: Vec<wangge_core::routing::RoutingRule>,
    /// Communities as routing rules name them.
    pub communities: Vec<wangge_core::org::CommunitySummary>,
}

/// A case as reported.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CaseForm {
    /// Category code, e.g. `0103` (雨水井盖).
    pub category: String,
    pub description: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    #[serde(default)]
    pub address: String,
    /// `normal` or `urgent`.
    #[serde(default = "normal")]
    pub urgency: String,
    /// `patrol`, `resident`, `hotline`, `department` or `media`; by default
    /// what the reporter's role implies.
    #[serde(default)]
    pub source: Option<String>,
    /// Answers to the category's extra questions, by question code.
    #[serde(default)]
    pub answers: BTreeMap<String, Vec<String>>,
    /// A hotline caller's name (never public).
    #[serde(default)]
    pub caller_name: Option<String>,
    /// Photos uploaded first (`POST /api/v1/photos`), by id.
    #[serde(default)]
    pub photos: Vec<Id>,
    /// The reporter's patrol going on, which the case is linked to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patrol_id: Option<Id>,
}

fn normal() -> String {
    "normal".into()
}

/// What an action carries besides itself.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ActForm {
    #[serde(default)]
    pub note: String,
    /// Department code for a dispatch (default: the category's).
    #[serde(default)]
    pub department: Option<String>,
    /// Review date of a hang-up (`YYYY-MM-DD`).
    #[serde(default)]
    pub review_on: Option<String>,
    /// 1–5, with a rating.
    #[serde(default)]
    pub rating: Option<i64>,
    /// Extra hours asked for or granted with an extension.
    #[serde(default)]
    pub extension_hours: Option<i64>,
    /// The version read; a stale one is refused (409).
    #[serde(default)]
    pub version: Option<i64>,
    /// Photos uploaded first, by id: required to handle (the after-photo).
    #[serde(default)]
    pub photos: Vec<Id>,
    /// With a merge: the case this one repeats, by id or public code.
    #[serde(default)]
    pub merge_into: Option<String>,
}

/// A new case's public code: the second it was filed (5 bytes) and 7
/// random bytes, in URL-safe base64 (16 characters). Unguessable (56
/// random bits), and in time order, so that new codes land at the end of
/// their index instead of on a random page of it at every insert.
pub(crate) fn public_code(at: Timestamp) -> Result<String, AppError> {
    let secs = at.as_second().to_be_bytes();
    let random = random_bytes::<7>().map_err(|e| AppError::Internal(e.to_string()))?;
    let mut raw = [0u8; 12];
    raw[..5].copy_from_slice(&secs[3..]);
    raw[5..].copy_from_slice(&random);
    Ok(URL_SAFE_NO_PAD.encode(raw))
}

/// A case's record right after intake: what `INSERT_CASE` stores.
fn reported_record(id: Id, new: NewCase) -> CaseRecord {
    CaseRecord {
        id,
        public_code: new.public_code,
        category_id: new.category_id,
        source: new.source,
        grid_id: new.grid_id,
        lon: new.lon,
        lat: new.lat,
        address: new.address,
        description: new.description,
        urgency: new.urgency,
        reporter_id: new.reporter_id,
        reporter_name: new.reporter_name,
        state: CaseState::Reported.as_str().into(),
        pending: None,
        level: Level::Grid.as_str().into(),
        resume_to: None,
        department_id: new.department_id,
        reported_at: new.at,
        clock_start: new.at,
        step: Some(step_str(Step::Acceptance).into()),
        step_started_at: Some(new.at),
        extra_hours: 0,
        rework_count: 0,
        closed_at: None,
        rating: None,
        rating_comment: None,
        answers: new.answers,
        version: 1,
        merged_into: None,
    }
}

/// What belongs to a case besides its record, for showing it.
struct CaseParts {
    pauses: Vec<Pause>,
    events: Vec<CaseEvent>,
    photos: Vec<wangge_store::PhotoMeta>,
    grid_name: Option<String>,
}

/// A clock as shown.
#[derive(Debug, Clone, Serialize)]
pub struct ClockView {
    pub deadline: Option<Timestamp>,
    pub light: Option<Light>,
    pub due_zh: String,
    pub due_en: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub at: Timestamp,
    pub action: String,
    pub action_label: String,
    pub to_state: String,
    pub note: String,
    pub department: Option<String>,
    pub public: bool,
    /// Photos taken with this step (before-photos with the report,
    /// after-photos with the handling).
    pub photos: Vec<crate::photos::PhotoRef>,
}

/// An open case near a new report, offered before filing a duplicate.
#[derive(Debug, Clone, Serialize)]
pub struct NearbyCase {
    pub public_code: String,
    pub category_name: String,
    pub state_label: String,
    pub distance_m: f64,
    pub reported_at: Timestamp,
}

/// How near an open case of the same category counts as a likely duplicate.
pub const DUPLICATE_RADIUS_M: f64 = 100.0;

/// A case as a staff member, department or reporter sees it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub id: Id,
    pub public_code: String,
    pub category_code: String,
    pub category_name: String,
    pub state: CaseState,
    pub state_label: String,
    pub source: String,
    pub grid_id: Option<Id>,
    pub grid_name: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: String,
    pub description: String,
    pub urgency: String,
    pub department: Option<String>,
    pub level: Level,
    pub pending: Option<Pending>,
    pub reported_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub rework_count: i64,
    pub rating: Option<i64>,
    pub overall: ClockView,
    pub step: Option<Step>,
    pub step_clock: Option<ClockView>,
    pub timeline: Vec<TimelineEntry>,
    /// What the viewer may do now.
    pub actions: Vec<Action>,
    pub version: i64,
    /// The case this duplicate was merged into.
    pub merged_into: Option<Id>,
}

/// What anyone may see of a case by its public code: no reporter, no
/// internal entries.
#[derive(Debug, Clone, Serialize)]
pub struct PublicCaseView {
    pub public_code: String,
    pub category_name: String,
    pub state_label_zh: String,
    pub state_label_en: String,
    pub closed: bool,
    pub department: Option<String>,
    pub address: String,
    pub reported_at: Timestamp,
    pub due_zh: String,
    pub due_en: String,
    pub next_step_zh: String,
    pub next_step_en: String,
    /// The public code of the case this one was merged into.
    pub merged_into: Option<String>,
    /// When the whole case is due, while it runs.
    pub deadline: Option<Timestamp>,
    pub timeline: Vec<TimelineEntry>,
}

fn parse_state(s: &str) -> Result<CaseState, AppError> {
    CaseState::parse(s)
        .ok_or_else(|| AppError::Store(StoreError::Corrupt(format!("case state {s}"))))
}

pub(crate) fn parse_step(s: &str) -> Option<Step> {
    match s {
        "acceptance" => Some(Step::Acceptance),
        "dispatch" => Some(Step::Dispatch),
        "handling" => Some(Step::Handling),
        "verification" => Some(Step::Verification),
        "closing" => Some(Step::Closing),
        _ => None,
    }
}

fn step_str(s: Step) -> &'static str {
    match s {
        Step::Acceptance => "acceptance",
        Step::Dispatch => "dispatch",
        Step::Handling => "handling",
        Step::Verification => "verification",
        Step::Closing => "closing",
    }
}

fn pending_str(p: Pending) -> &'static str {
    match p {
        Pending::Void => "void",
        Pending::Extension => "extension",
    }
}

/// The limit with granted extension hours added, in the same kind of time.
pub(crate) fn extended(limit: Limit, extra_hours: i64, cal: &WorkingCalendar) -> Limit {
    if extra_hours == 0 {
        return limit;
    }
    match limit {
        Limit::CalendarHours(h) => Limit::CalendarHours(h + extra_hours),
        Limit::WorkingHours(h) => Limit::WorkingHours(h + extra_hours),
        Limit::WorkingDays(_) => Limit::WorkingHours(limit.amount(cal).as_hours() + extra_hours),
    }
}

impl App {
    /// Creates the standard departments, categories and the 2026 calendar
    /// when they are missing; edited ones are left alone.
    pub async fn seed_reference_data(&self) -> Result<(), AppError> {
        let mut departments = HashMap::new();
        for (code, name) in DEPARTMENTS {
            departments.insert(
                code.to_string(),
                self.store.insert_department(code, name).await?,
            );
        }
        #[derive(Deserialize)]
        struct Seed {
            categories: Vec<CategorySpec>,
        }
        let seed: Seed = serde_json::from_str(CATEGORY_SEED)
            .map_err(|e| AppError::Internal(format!("category seed: {e}")))?;
        wangge_core::category::check(&seed.categories)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let with_departments = seed
            .categories
            .into_iter()
            .map(|c| {
                let d = c
                    .department
                    .as_ref()
                    .and_then(|d| departments.get(d).copied());
                (c, d)
            })
            .collect();
        self.store.seed_categories(with_departments).await?;

        #[derive(Deserialize)]
        struct Holiday {
            name: String,
            from: jiff::civil::Date,
            to: jiff::civil::Date,
        }
        #[derive(Deserialize)]
        struct Calendar {
            holidays: Vec<Holiday>,
            make_up_workdays: Vec<jiff::civil::Date>,
        }
        let cal: Calendar = serde_json::from_str(CALENDAR_SEED)
            .map_err(|e| AppError::Internal(format!("calendar seed: {e}")))?;
        let mut days = Vec::new();
        for h in cal.holidays {
            let mut d = h.from;
            while d <= h.to {
                days.push((d.to_string(), "holiday".to_owned(), h.name.clone()));
                d = d
                    .tomorrow()
                    .map_err(|e| AppError::Internal(e.to_string()))?;
            }
        }
        for d in cal.make_up_workdays {
            days.push((d.to_string(), "workday".to_owned(), "调休上班".to_owned()));
        }
        self.store.seed_calendar_days(days).await?;
        self.forget_reference();
        Ok(())
    }

    /// Categories, departments and the calendar, kept in memory for up to
    /// 30 seconds (other app nodes see edits within that time).
    pub async fn reference(&self) -> Result<Arc<Reference>, AppError> {
        if let Ok(slot) = self.reference.read()
            && let Some((at, r)) = slot.as_ref()
            && at.elapsed() < REFERENCE_TTL
        {
            return Ok(r.clone());
        }
        let fresh = Arc::new(Reference {
            categories: self.store.categories().await?,
            departments: self.store.departments().await?,
            calendar: self.calendar().await?,
            webhooks: self.store.webhooks().await?,
            routing: self.store.routing_rules().await?,
            communities: self.store.list_communities().await?,
        });
        if let Ok(mut slot) = self.reference.write() {
            *slot = Some((std::time::Instant::now(), fresh.clone()));
        }
        Ok(fresh)
    }

    /// Forgets the cached reference data (after an edit).
    pub fn forget_reference(&self) {
        if let Ok(mut slot) = self.reference.write() {
            *slot = None;
        }
    }

    /// The working calendar as stored.
    pub async fn calendar(&self) -> Result<WorkingCalendar, AppError> {
        let days = self.store.calendar_days().await?;
        let pick = |kind: &str| -> Vec<jiff::civil::Date> {
            days.iter()
                .filter(|(_, k, _)| k == kind)
                .filter_map(|(d, _, _)| d.parse().ok())
                .collect()
        };
        WorkingCalendar::with_days(pick("holiday"), pick("workday"))
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    pub async fn categories(&self) -> Result<Vec<CategoryRecord>, AppError> {
        Ok(self.reference().await?.categories.clone())
    }

    async fn standing(&self, actor: &Actor, case: &CaseRecord) -> Result<Standing, AppError> {
        let units = register_scope(actor, RegisterAction::Read).units;
        let in_scope = match case.grid_id {
            Some(g) if !units.is_empty() => self
                .grids_in_units(&units.grids, &units.communities, &units.streets)
                .await?
                .contains(&g),
            _ => false,
        };
        Ok(Standing {
            in_scope,
            reporter: case.reporter_id == Some(actor.user_id),
            department: case
                .department_id
                .is_some_and(|d| actor.departments.contains(&d)),
        })
    }

    pub(crate) fn facts(case: &CaseRecord) -> Result<CaseFacts, AppError> {
        Ok(CaseFacts {
            state: parse_state(&case.state)?,
            pending: case.pending.as_deref().and_then(|p| match p {
                "void" => Some(Pending::Void),
                "extension" => Some(Pending::Extension),
                _ => None,
            }),
            level: Level::parse(&case.level).unwrap_or(Level::Grid),
            resume_to: case.resume_to.as_deref().and_then(CaseState::parse),
        })
    }

    /// Files a case. A retry with the same `Idempotency-Key` returns the
    /// first case (`false`: not new); the same key with another body is
    /// refused.
    pub async fn report_case(
        &self,
        actor: &Actor,
        form: &CaseForm,
        idempotency_key: Option<&str>,
    ) -> Result<(CaseView, bool), AppError> {
        self.report_case_checked(actor, form, idempotency_key, false)
            .await
    }

    /// As [`App::report_case`]; with `offer_duplicates`, open cases of the
    /// same category within 100 m are answered first
    /// (`AppError::LikelyDuplicates`), unless the key already filed a case.
    pub async fn report_case_checked(
        &self,
        actor: &Actor,
        form: &CaseForm,
        idempotency_key: Option<&str>,
        offer_duplicates: bool,
    ) -> Result<(CaseView, bool), AppError> {
        let request_hash = Sha256::digest(serde_json::to_vec(form).unwrap_or_default()).to_vec();
        // A retry is usually found by the unique key when inserting; look
        // first only where a retry would otherwise be refused before that
        // (its photos are attached already, or it would be offered itself
        // as a duplicate).
        let look_first = offer_duplicates || !form.photos.is_empty();
        if look_first
            && let Some(key) = idempotency_key
            && let Some(done) = self.filed_before(actor, key, &request_hash).await?
        {
            return Ok((done, false));
        }
        if offer_duplicates
            && let (Some(lat), Some(lon)) = (form.lat, form.lon)
            && let Ok(point) = GeoPoint::new(lon, lat)
        {
            let near = self
                .nearby_cases(&form.category, point, DUPLICATE_RADIUS_M)
                .await?;
            if !near.is_empty() {
                return Err(AppError::LikelyDuplicates(near));
            }
        }
        let reference = self.reference().await?;
        let category = reference
            .categories
            .iter()
            .find(|c| c.spec.code == form.category.trim() && c.active)
            .ok_or_else(|| AppError::invalid("category", "unknown category", "没有这个事件类别"))?;
        let mut errors = Vec::new();
        let description = form.description.trim();
        if description.chars().count() < 2 || description.chars().count() > 4000 {
            errors.push(wangge_core::register::FieldError::new(
                "description",
                "describe the problem (2 to 4,000 characters)",
                "请描述问题（2 至 4000 字）",
            ));
        }
        if !matches!(form.urgency.as_str(), "normal" | "urgent") {
            errors.push(wangge_core::register::FieldError::new(
                "urgency",
                "normal or urgent",
                "紧急程度应为一般或紧急",
            ));
        }
        for q in &category.spec.questions {
            if q.required
                && form
                    .answers
                    .get(&q.code)
                    .is_none_or(|a| a.iter().all(|v| v.trim().is_empty()))
            {
                errors.push(wangge_core::register::FieldError::new(
                    "answers",
                    format!("{} is required", q.label),
                    format!("请回答：{}", q.label),
                ));
            }
        }
        let point = match (form.lat, form.lon) {
            (Some(lat), Some(lon)) => match GeoPoint::new(lon, lat) {
                Ok(p) => Some(p),
                Err(e) => {
                    errors.push(wangge_core::register::FieldError::new(
                        "location",
                        e.to_string(),
                        e.localized(Lang::Zh),
                    ));
                    None
                }
            },
            _ => None,
        };
        if point.is_none() && form.address.trim().is_empty() {
            errors.push(wangge_core::register::FieldError::new(
                "location",
                "give a position or an address",
                "请提供位置或地址",
            ));
        }
        if !errors.is_empty() {
            // A key already used says more than the fields of this body.
            if let Some(key) = idempotency_key
                && let Some(done) = self.filed_before(actor, key, &request_hash).await?
            {
                return Ok((done, false));
            }
            return Err(AppError::InvalidFields(errors));
        }
        self.check_photos(actor, &form.photos).await?;
        let (grid_id, grid_name, community_id) = match point {
            Some(p) => match self.locate_named(p).await? {
                Some((id, name, community)) => (Some(id), Some(name), Some(community)),
                None => (None, None, None),
            },
            None => (None, None, None),
        };
        let place = wangge_core::routing::Place {
            community_id,
            street_id: community_id.and_then(|c| {
                reference
                    .communities
                    .iter()
                    .find(|x| x.community.id == c)
                    .map(|x| x.community.street_id)
            }),
        };
        let department_id = wangge_core::routing::route(
            &reference.routing,
            &category.spec.code,
            place,
            category.department_id,
        );
        let source = form.source.clone().unwrap_or_else(|| {
            match actor.role {
                Role::Resident => "resident",
                Role::DepartmentStaff => "department",
                _ => "patrol",
            }
            .to_owned()
        });
        if !matches!(
            source.as_str(),
            "patrol" | "resident" | "hotline" | "department" | "media"
        ) {
            return Err(AppError::invalid(
                "source",
                "patrol, resident, hotline, department or media",
                "来源不正确",
            ));
        }
        let now = self.now();
        let code = public_code(now)?;
        let new = NewCase {
            public_code: code,
            category_id: category.id,
            source: source.clone(),
            grid_id,
            lon: point.map(|p| p.lon),
            lat: point.map(|p| p.lat),
            address: form.address.trim().to_owned(),
            description: description.to_owned(),
            urgency: form.urgency.clone(),
            reporter_id: Some(actor.user_id),
            reporter_name: form.caller_name.clone().filter(|n| !n.trim().is_empty()),
            department_id,
            at: now,
            answers: serde_json::to_string(&form.answers).unwrap_or_else(|_| "{}".into()),
            idempotency_key: idempotency_key.map(str::to_owned),
            request_hash: Some(request_hash.clone()),
        };
        let event = CaseEvent {
            at: now,
            actor_id: Some(actor.user_id),
            action: "report".into(),
            from_state: None,
            to_state: CaseState::Reported.as_str().into(),
            visibility: "public".into(),
            note: String::new(),
            department_id: None,
            photo_ids: form.photos.clone(),
            id: None,
        };
        if let Some(patrol) = form.patrol_id {
            self.own_patrol(actor, patrol).await?;
        }
        let audit = AuditEntry::new(now, Some(actor.user_id), "case.report", "case").detail(
            json!({ "category": category.spec.code, "source": source, "grid_id": grid_id }),
        );
        let kept = (new.clone(), event.clone());
        let id = match self
            .store
            .insert_case(new, event, Effects::default(), audit)
            .await
        {
            Ok(id) => id,
            // A retry, or two retries racing: the first one filed it.
            Err(StoreError::Conflict(m)) => {
                if let Some(key) = idempotency_key
                    && let Some(done) = self.filed_before(actor, key, &request_hash).await?
                {
                    return Ok((done, false));
                }
                return Err(AppError::Conflict(m));
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(patrol) = form.patrol_id {
            wangge_store::field::patrol::link_case(&*self.store, patrol, id).await?;
        }
        let (new, event) = kept;
        let record = reported_record(id, new);
        let jobs = crate::webhooks::jobs_for(&reference, "case.reported", &record, now);
        if !jobs.is_empty() {
            self.store.enqueue_jobs(jobs).await?;
        }
        if !form.photos.is_empty() {
            return Ok((self.case_view(actor, id).await?, true));
        }
        // Answer from what was just written, as the store holds it.
        let standing = self.standing(actor, &record).await?;
        let staff = standing.in_scope || standing.department;
        let parts = CaseParts {
            pauses: Vec::new(),
            events: vec![event],
            photos: Vec::new(),
            grid_name,
        };
        Ok((
            self.compose_case(record, parts, Some((actor, standing)), staff)
                .await?,
            true,
        ))
    }

    /// The case an idempotency key filed, if any: refused when the key
    /// came with another request.
    async fn filed_before(
        &self,
        actor: &Actor,
        key: &str,
        request_hash: &[u8],
    ) -> Result<Option<CaseView>, AppError> {
        let Some((id, hash)) = self.store.case_by_idempotency(actor.user_id, key).await? else {
            return Ok(None);
        };
        if hash.as_deref() != Some(request_hash) {
            return Err(AppError::invalid(
                "idempotency_key",
                "this Idempotency-Key was used for a different request",
                "该 Idempotency-Key 已用于另一个不同的请求",
            ));
        }
        Ok(Some(self.case_view(actor, id).await?))
    }

    async fn visible_case(
        &self,
        actor: &Actor,
        id: Id,
    ) -> Result<(CaseRecord, Standing), AppError> {
        let case = self
            .store
            .case(id)
            .await?
            .ok_or(AppError::NotFound(Resource::Case))?;
        let standing = self.standing(actor, &case).await?;
        if !(standing.in_scope || standing.department || standing.reporter) {
            return Err(AppError::NotFound(Resource::Case));
        }
        Ok((case, standing))
    }

    fn clock(
        &self,
        cal: &WorkingCalendar,
        limit: Limit,
        start: Timestamp,
        pauses: &[Pause],
        end: Option<Timestamp>,
    ) -> ClockView {
        let now = end.unwrap_or_else(|| self.now());
        ClockView {
            deadline: limit.deadline(cal, start, pauses),
            light: end.is_none().then(|| limit.light(cal, start, pauses, now)),
            due_zh: if end.is_some() {
                "已办结".into()
            } else {
                limit.describe(cal, start, pauses, now, Lang::Zh)
            },
            due_en: if end.is_some() {
                "done".into()
            } else {
                limit.describe(cal, start, pauses, now, Lang::En)
            },
        }
    }

    /// Open cases of the same category within `radius_m` of a point,
    /// nearest first: what a reporter is offered before filing again.
    /// Only public facts are shown.
    pub async fn nearby_cases(
        &self,
        category: &str,
        point: GeoPoint,
        radius_m: f64,
    ) -> Result<Vec<NearbyCase>, AppError> {
        let reference = self.reference().await?;
        let Some(cat) = reference
            .categories
            .iter()
            .find(|c| c.spec.code == category.trim())
        else {
            return Err(AppError::invalid(
                "category",
                "unknown category",
                "没有这个事件类别",
            ));
        };
        let radius = radius_m.clamp(1.0, 500.0);
        let (lat, lon) = point.box_around(radius);
        let mut near: Vec<NearbyCase> = self
            .store
            .open_cases_in_box(cat.id, lat, lon)
            .await?
            .into_iter()
            .filter(|_| cat.spec.public)
            .filter_map(|c| {
                let p = GeoPoint::new(c.lon?, c.lat?).ok()?;
                let d = point.distance_m(&p);
                (d <= radius).then(|| NearbyCase {
                    public_code: c.public_code,
                    category_name: cat.spec.name.clone(),
                    state_label: CaseState::parse(&c.state)
                        .map(|s| s.label(Lang::Zh))
                        .unwrap_or("")
                        .to_owned(),
                    distance_m: (d * 10.0).round() / 10.0,
                    reported_at: c.reported_at,
                })
            })
            .collect();
        near.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
        Ok(near)
    }

    /// One case, as the actor may see it.
    pub async fn case_view(&self, actor: &Actor, id: Id) -> Result<CaseView, AppError> {
        let (case, standing) = self.visible_case(actor, id).await?;
        let staff = standing.in_scope || standing.department;
        self.render_case(case, Some((actor, standing)), staff).await
    }

    async fn render_case(
        &self,
        case: CaseRecord,
        viewer: Option<(&Actor, Standing)>,
        staff: bool,
    ) -> Result<CaseView, AppError> {
        let parts = CaseParts {
            pauses: self
                .store
                .case_pauses(case.id)
                .await?
                .into_iter()
                .map(|(from, to)| Pause { from, to })
                .collect(),
            events: self.store.case_events(case.id).await?,
            photos: self.store.case_photos(case.id).await?,
            grid_name: match case.grid_id {
                Some(g) => self.store.grid(g).await?.map(|g| g.grid.name),
                None => None,
            },
        };
        self.compose_case(case, parts, viewer, staff).await
    }

    /// A case as shown, from its record and what belongs to it.
    async fn compose_case(
        &self,
        case: CaseRecord,
        parts: CaseParts,
        viewer: Option<(&Actor, Standing)>,
        staff: bool,
    ) -> Result<CaseView, AppError> {
        let CaseParts {
            pauses,
            events,
            photos: photo_list,
            grid_name,
        } = parts;
        let reference = self.reference().await?;
        let category = reference
            .categories
            .iter()
            .find(|c| c.id == case.category_id)
            .ok_or_else(|| AppError::Internal(format!("case {} has no category", case.id)))?;
        let departments: HashMap<Id, &str> = reference
            .departments
            .iter()
            .map(|d| (d.id, d.name.as_str()))
            .collect();
        let cal = &reference.calendar;
        let state = parse_state(&case.state)?;
        let done = matches!(
            state,
            CaseState::Closed | CaseState::Rated | CaseState::Voided | CaseState::Merged
        );
        let end = if done {
            case.closed_at.or(Some(case.reported_at))
        } else {
            None
        };
        let overall = self.clock(
            cal,
            extended(category.spec.overall, case.extra_hours, cal),
            case.clock_start,
            &pauses,
            end,
        );
        let step = case.step.as_deref().and_then(parse_step);
        let step_clock = match (step, case.step_started_at, done) {
            (Some(s), Some(start), false) => category
                .spec
                .steps
                .of(s)
                .map(|l| self.clock(cal, l, start, &pauses, None)),
            _ => None,
        };
        let mut photos: HashMap<Id, Vec<crate::photos::PhotoRef>> = HashMap::new();
        for p in photo_list {
            if let Some(event) = p.event_id {
                photos.entry(event).or_default().push(if viewer.is_some() {
                    crate::photos::PhotoRef::staff(&p)
                } else {
                    crate::photos::PhotoRef::public(&case.public_code, &p)
                });
            }
        }
        let timeline = events
            .into_iter()
            .filter(|e| staff || e.visibility == "public")
            .map(|e| TimelineEntry {
                photos: e.id.and_then(|id| photos.remove(&id)).unwrap_or_default(),
                at: e.at,
                action_label: Action::parse(&e.action)
                    .map(|a| a.label(Lang::Zh).to_owned())
                    .unwrap_or_else(|| match e.action.as_str() {
                        "report" => "上报".into(),
                        "comment" => "居民补充".into(),
                        other => other.to_owned(),
                    }),
                action: e.action,
                to_state: e.to_state,
                note: e.note,
                department: e
                    .department_id
                    .and_then(|d| departments.get(&d).map(|n| n.to_string())),
                public: e.visibility == "public",
            })
            .collect();
        let facts = Self::facts(&case)?;
        let actions = match viewer {
            Some((actor, standing)) => Action::ALL
                .iter()
                .copied()
                .filter(|a| workflow::apply(facts, *a, actor.role, standing).is_ok())
                .collect(),
            None => Vec::new(),
        };
        Ok(CaseView {
            id: case.id,
            public_code: case.public_code,
            category_code: category.spec.code.clone(),
            category_name: category.spec.name.clone(),
            state,
            state_label: state.label(Lang::Zh).to_owned(),
            source: case.source,
            grid_id: case.grid_id,
            grid_name,
            lat: case.lat,
            lon: case.lon,
            address: case.address,
            description: case.description,
            urgency: case.urgency,
            department: case
                .department_id
                .and_then(|d| departments.get(&d).map(|n| n.to_string())),
            level: facts.level,
            pending: facts.pending,
            reported_at: case.reported_at,
            closed_at: case.closed_at,
            rework_count: case.rework_count,
            rating: case.rating,
            overall,
            step,
            step_clock,
            timeline,
            actions,
            version: case.version,
            merged_into: case.merged_into,
        })
    }

    /// Cases the actor may see: in their grids, of their department, or
    /// reported by them; newest first.
    pub async fn list_cases(
        &self,
        actor: &Actor,
        states: Vec<String>,
        page: Page,
    ) -> Result<Vec<CaseView>, AppError> {
        let units = register_scope(actor, RegisterAction::Read).units;
        let grid_ids = if units.is_empty() {
            Vec::new()
        } else {
            self.grids_in_units(&units.grids, &units.communities, &units.streets)
                .await?
                .to_vec()
        };
        let records = self
            .store
            .cases(CaseQuery {
                grid_ids,
                department_id: actor.departments.first().copied(),
                reporter_id: Some(actor.user_id),
                states,
                limit: page.limit,
                offset: page.offset,
            })
            .await?;
        let mut out = Vec::with_capacity(records.len());
        for case in records {
            let standing = self.standing(actor, &case).await?;
            let staff = standing.in_scope || standing.department;
            out.push(
                self.render_case(case, Some((actor, standing)), staff)
                    .await?,
            );
        }
        Ok(out)
    }

    /// Takes a workflow action on a case.
    pub async fn act_on_case(
        &self,
        actor: &Actor,
        id: Id,
        action: Action,
        form: &ActForm,
    ) -> Result<CaseView, AppError> {
        let (case, standing) = self.visible_case(actor, id).await?;
        let facts = Self::facts(&case)?;
        let outcome =
            workflow::apply(facts, action, actor.role, standing).map_err(AppError::Refused)?;
        let now = self.now();
        let note = form.note.trim().chars().take(2000).collect::<String>();
        if workflow::needs_note(action) && note.chars().count() < 2 {
            return Err(AppError::invalid("note", "say why", "请填写原因或说明"));
        }
        if workflow::needs_photo(action) && form.photos.is_empty() {
            return Err(AppError::invalid(
                "photos",
                "add a photo of the result",
                "请上传处置后的现场照片",
            ));
        }
        self.check_photos(actor, &form.photos).await?;
        let mut department_id = case.department_id;
        if action == Action::Dispatch
            && let Some(code) = form.department.as_deref().filter(|c| !c.trim().is_empty())
        {
            department_id = Some(
                self.reference()
                    .await?
                    .departments
                    .iter()
                    .find(|d| d.code == code.trim())
                    .map(|d| d.id)
                    .ok_or_else(|| {
                        AppError::invalid("department", "no such department", "没有这个职能部门")
                    })?,
            );
        }
        let merge_target = if action == Action::Merge {
            Some(self.merge_target(actor, &case, form).await?)
        } else {
            None
        };
        if action == Action::Dispatch && department_id.is_none() {
            return Err(AppError::invalid(
                "department",
                "name the department",
                "请选择派遣的职能部门",
            ));
        }
        let (change, pause, mut event) = record_action(
            &case,
            &outcome,
            action,
            form,
            note,
            department_id,
            actor.user_id,
            now,
        )?;
        event.photo_ids = form.photos.clone();
        let mut change = change;
        if let Some(target) = &merge_target {
            change.merged_into = Some(target.id);
            event.note = format!("并入事件 {}：{}", target.public_code, event.note);
        }
        let effects = self
            .effects_of(&case, &change, action, outcome.facts.level, actor, now)
            .await?;
        let audit = AuditEntry::new(
            now,
            Some(actor.user_id),
            &format!("case.{}", action.as_str()),
            "case",
        )
        .record(id)
        .detail(json!({ "from": case.state, "to": change.state }));
        let version = form.version.unwrap_or(case.version);
        self.store
            .update_case(id, version, change, event, pause, effects, audit)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => {
                    AppError::Conflict(format!("case {id} was changed by someone else; reload it"))
                }
                other => other.into(),
            })?;
        self.case_view(actor, id).await
    }

    /// The open case of the same category, visible to the actor, that a
    /// duplicate is merged into.
    async fn merge_target(
        &self,
        actor: &Actor,
        case: &CaseRecord,
        form: &ActForm,
    ) -> Result<CaseRecord, AppError> {
        let named = form.merge_into.as_deref().map(str::trim).unwrap_or("");
        let not_found = || {
            AppError::invalid(
                "merge_into",
                "name an open case of the same kind that you can see",
                "请填写要并入的同类未办结事件（编号或查询码）",
            )
        };
        let target = match named.parse::<Id>() {
            Ok(id) => self.store.case(id).await?,
            Err(_) if !named.is_empty() => self.store.case_by_code(named).await?,
            Err(_) => None,
        }
        .ok_or_else(not_found)?;
        let open = !matches!(
            target.state.as_str(),
            "closed" | "rated" | "voided" | "merged"
        );
        let standing = self.standing(actor, &target).await?;
        if target.id == case.id
            || target.category_id != case.category_id
            || !open
            || !(standing.in_scope || standing.department)
        {
            return Err(not_found());
        }
        Ok(target)
    }

    /// The inbox messages and webhook deliveries an action causes.
    async fn effects_of(
        &self,
        before: &CaseRecord,
        change: &CaseChange,
        action: Action,
        level: Level,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Effects, AppError> {
        let mut after = before.clone();
        after.state = change.state.clone();
        after.level = change.level.clone();
        after.department_id = change.department_id;
        after.closed_at = change.closed_at;
        let notifications = match crate::inbox::after_action(action, level) {
            Some((kind, audiences, gist)) => {
                self.notify(&after, kind, &audiences, Some(actor.user_id), gist, now)
                    .await?
            }
            None => Vec::new(),
        };
        let reference = self.reference().await?;
        let event = crate::webhooks::event_of(action);
        Ok(Effects {
            notifications,
            jobs: crate::webhooks::jobs_for(&reference, event, &after, now),
        })
    }

    /// The case behind a public code, if the actor may rate it now (the
    /// public page then shows the rating form).
    pub async fn rateable_by_code(
        &self,
        actor: &Actor,
        code: &str,
    ) -> Result<Option<Id>, AppError> {
        let Some(case) = self.store.case_by_code(code).await? else {
            return Ok(None);
        };
        let standing = self.standing(actor, &case).await?;
        let facts = Self::facts(&case)?;
        Ok(workflow::apply(facts, Action::Rate, actor.role, standing)
            .is_ok()
            .then_some(case.id))
    }

    /// The public page of a case: anyone with its code may read it.
    pub async fn public_case(&self, code: &str) -> Result<PublicCaseView, AppError> {
        let case = self
            .store
            .case_by_code(code)
            .await?
            .ok_or(AppError::NotFound(Resource::Case))?;
        if self
            .reference()
            .await?
            .categories
            .iter()
            .any(|c| c.id == case.category_id && !c.spec.public)
        {
            return Err(AppError::NotFound(Resource::Case));
        }
        let merged_into = match case.merged_into {
            Some(id) => self.store.case(id).await?.map(|c| c.public_code),
            None => None,
        };
        let v = self.render_case(case, None, false).await?;
        let (next_zh, next_en) = workflow::next_step(v.state);
        Ok(PublicCaseView {
            merged_into,
            deadline: v.overall.deadline.filter(|_| v.overall.light.is_some()),
            next_step_zh: next_zh.into(),
            next_step_en: next_en.into(),
            public_code: v.public_code,
            category_name: v.category_name,
            state_label_zh: v.state.label(Lang::Zh).into(),
            state_label_en: v.state.label(Lang::En).into(),
            closed: matches!(v.state, CaseState::Closed | CaseState::Rated),
            department: v.department,
            address: v.address,
            reported_at: v.reported_at,
            due_zh: v.overall.due_zh,
            due_en: v.overall.due_en,
            timeline: v.timeline,
        })
    }
}

/// What an allowed action writes: the case's new facts and clock, a
/// hang-up starting or ending, and the timeline entry.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_action(
    case: &CaseRecord,
    outcome: &workflow::Outcome,
    action: Action,
    form: &ActForm,
    note: String,
    department_id: Option<Id>,
    actor_id: Id,
    now: Timestamp,
) -> Result<(CaseChange, Option<PauseChange>, CaseEvent), AppError> {
    let mut change = CaseChange {
        state: outcome.facts.state.as_str().into(),
        pending: outcome.facts.pending.map(|p| pending_str(p).into()),
        level: outcome.facts.level.as_str().into(),
        resume_to: outcome.facts.resume_to.map(|s| s.as_str().into()),
        department_id,
        rework_count: case.rework_count + i64::from(outcome.rework),
        ..CaseChange::from(case)
    };
    let mut pause = None;
    match outcome.clock {
        ClockEffect::Keep => {}
        ClockEffect::Step(s) => {
            change.step = Some(step_str(s).into());
            change.step_started_at = Some(now);
        }
        ClockEffect::Pause => {
            let review_on = form
                .review_on
                .clone()
                .filter(|d| d.parse::<jiff::civil::Date>().is_ok());
            if review_on.is_none() {
                return Err(AppError::invalid(
                    "review_on",
                    "give a review date (YYYY-MM-DD)",
                    "请填写复查日期",
                ));
            }
            pause = Some(PauseChange::Start {
                at: now,
                reason: note.clone(),
                review_on,
            });
        }
        ClockEffect::Resume => pause = Some(PauseChange::End { at: now }),
        ClockEffect::Stop => {
            change.closed_at = Some(now);
            change.step = None;
            change.step_started_at = None;
        }
        ClockEffect::Restart(s) => {
            change.clock_start = now;
            change.closed_at = None;
            change.rating = None;
            change.step = Some(step_str(s).into());
            change.step_started_at = Some(now);
        }
        ClockEffect::Extend => {
            let hours = form.extension_hours.unwrap_or(0);
            if !(1..=24 * 60).contains(&hours) {
                return Err(AppError::invalid(
                    "extension_hours",
                    "grant 1 to 1,440 hours",
                    "延时应为 1 至 1440 小时",
                ));
            }
            change.extra_hours += hours;
        }
    }
    if action == Action::Rate {
        let rating = form.rating.filter(|r| (1..=5).contains(r));
        if rating.is_none() {
            return Err(AppError::invalid("rating", "rate 1 to 5", "请打 1 至 5 分"));
        }
        change.rating = rating;
        change.rating_comment = Some(note.clone()).filter(|n| !n.is_empty());
    }
    let event = CaseEvent {
        at: now,
        actor_id: Some(actor_id),
        action: action.as_str().into(),
        from_state: Some(case.state.clone()),
        to_state: change.state.clone(),
        visibility: match outcome.visibility {
            Visibility::Public => "public".into(),
            Visibility::Internal => "internal".into(),
        },
        note,
        department_id: if action == Action::Dispatch {
            department_id
        } else {
            None
        },
        ..CaseEvent::default()
    };
    Ok((change, pause, event))
}

/// How KPI rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KpiGroup {
    Grid,
    Community,
    Department,
    /// The grid worker who reported the case on her rounds (cases from
    /// residents, the hotline or departments are grouped as "—").
    Worker,
}

/// One row of KPIs.
#[derive(Debug, Clone, Serialize)]
pub struct KpiRow {
    pub group: String,
    #[serde(flatten)]
    pub kpis: wangge_core::kpi::Kpis,
}

impl App {
    /// KPIs of the cases the actor may see, grouped by grid, community or
    /// department, each with its sample size.
    pub async fn kpis(&self, actor: &Actor, by: KpiGroup) -> Result<Vec<KpiRow>, AppError> {
        let units = register_scope(actor, RegisterAction::Read).units;
        let grid_ids = if units.is_empty() {
            Vec::new()
        } else {
            self.grids_in_units(&units.grids, &units.communities, &units.streets)
                .await?
                .to_vec()
        };
        let cases = self
            .store
            .cases(CaseQuery {
                grid_ids,
                department_id: actor.departments.first().copied(),
                reporter_id: None,
                states: Vec::new(),
                limit: 100_000,
                offset: 0,
            })
            .await?;
        let reference = self.reference().await?;
        let grids: HashMap<Id, (String, String)> = self
            .store
            .list_grids(None)
            .await?
            .into_iter()
            .map(|g| (g.grid.id, (g.grid.name, g.community_name)))
            .collect();
        let workers: HashMap<Id, String> = if by == KpiGroup::Worker {
            self.store
                .users()
                .await?
                .into_iter()
                .filter(|u| u.role == Role::GridWorker.as_str())
                .map(|u| (u.id, format!("{}（{}）", u.display_name, u.username)))
                .collect()
        } else {
            HashMap::new()
        };
        let mut groups: BTreeMap<String, Vec<wangge_core::kpi::CaseTimes>> = BTreeMap::new();
        for c in cases {
            let Some(category) = reference.categories.iter().find(|k| k.id == c.category_id) else {
                continue;
            };
            let events = self.store.case_events(c.id).await?;
            let first = |action: &str| events.iter().find(|e| e.action == action).map(|e| e.at);
            let pauses = self
                .store
                .case_pauses(c.id)
                .await?
                .into_iter()
                .map(|(from, to)| Pause { from, to })
                .collect();
            let key = match by {
                KpiGroup::Grid => c.grid_id.and_then(|g| grids.get(&g)).map(|g| g.0.clone()),
                KpiGroup::Community => c.grid_id.and_then(|g| grids.get(&g)).map(|g| g.1.clone()),
                KpiGroup::Department => c
                    .department_id
                    .and_then(|d| reference.departments.iter().find(|x| x.id == d))
                    .map(|d| d.name.clone()),
                KpiGroup::Worker => c.reporter_id.and_then(|r| workers.get(&r)).cloned(),
            }
            .unwrap_or_else(|| "—".to_owned());
            groups
                .entry(key)
                .or_default()
                .push(wangge_core::kpi::CaseTimes {
                    overall: category.spec.overall,
                    steps: category.spec.steps,
                    reported: c.reported_at,
                    accepted: first("accept"),
                    dispatched: first("dispatch"),
                    closed: c
                        .closed_at
                        .filter(|_| matches!(c.state.as_str(), "closed" | "rated")),
                    reworks: c.rework_count,
                    pauses,
                });
        }
        Ok(groups
            .into_iter()
            .map(|(group, cases)| KpiRow {
                group,
                kpis: wangge_core::kpi::compute(&cases, &reference.calendar),
            })
            .collect())
    }
}
