//! What callers hand to the store to write.

use jiff::Timestamp;

use crate::audit::AuditEntry;
use wangge_core::codes::{CommunityCode, ExternalGridCode, GridCode};
use wangge_core::org::{BuildingUse, Id};
use wangge_core::{DistrictCode, GeoPoint, StreetCode};

/// Names for org units that an import may create. A unit that already
/// exists keeps its name.
#[derive(Debug, Clone, Default)]
pub struct OrgNames {
    pub district: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
}

/// One change to the set of grid boundaries.
#[derive(Debug, Clone)]
pub enum BoundaryChange {
    /// A grid that does not exist yet, with its first boundary; missing
    /// community, street and district are created from `names`.
    Create {
        code: GridCode,
        name: String,
        external_code: Option<ExternalGridCode>,
        names: OrgNames,
        geometry: String,
    },
    /// A new drawing of an existing grid: the current version (which must
    /// still be `expected_version`) is closed and a new one opened.
    Redraw {
        grid_id: Id,
        expected_version: i64,
        geometry: String,
    },
    /// New name or external code, boundary unchanged.
    Rename {
        grid_id: Id,
        name: String,
        external_code: Option<ExternalGridCode>,
    },
}

/// A set of boundary changes applied atomically, with the buildings whose
/// grid changes because of them.
#[derive(Debug, Clone)]
pub struct BoundaryChanges {
    pub effective: Timestamp,
    pub recorded_at: Timestamp,
    pub changes: Vec<BoundaryChange>,
    /// Building id → code of the grid that now holds it.
    pub reassign_buildings: Vec<(Id, GridCode)>,
}

impl BoundaryChanges {
    /// Codes of the org units the changes need, with the names to create them.
    pub fn org_units(&self) -> impl Iterator<Item = (&GridCode, &OrgNames)> {
        self.changes.iter().filter_map(|c| match c {
            BoundaryChange::Create { code, names, .. } => Some((code, names)),
            _ => None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewUnit {
    pub number: i64,
    pub floors: i64,
    pub dwellings_per_floor: i64,
}

/// A household of a bulk load: a new one, or one already registered that
/// the load's residents join.
#[derive(Debug, Clone)]
pub enum BulkHousehold {
    New(HouseholdRow),
    Existing(Id),
}

/// A dwelling of a building being created, by its unit's number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDoor {
    pub unit: i64,
    pub floor: i64,
    pub number: String,
    pub dwelling_use: String,
}

#[derive(Debug, Clone)]
pub struct NewBuilding {
    pub community_id: Id,
    pub grid_id: Id,
    pub number: String,
    pub name: String,
    pub address: String,
    pub location: GeoPoint,
    pub floors: i64,
    pub building_use: BuildingUse,
    pub units: Vec<NewUnit>,
}

/// A stored boundary version with its grid code, for building the index.
#[derive(Debug, Clone)]
pub struct BoundaryRow {
    pub grid_id: Id,
    pub code: GridCode,
    pub version: i64,
    pub valid_from: Timestamp,
    pub valid_to: Option<Timestamp>,
    pub geometry: String,
}

/// Org-unit codes a grid code implies, outermost first.
pub fn org_codes(code: &GridCode) -> (DistrictCode, StreetCode, CommunityCode) {
    let community = code.community();
    let street = community.street();
    (street.district(), street, community)
}

/// The grids a query may read, already resolved from the access policy,
/// and whether minors' records are included. Every register query takes
/// one and applies it in SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeFilter {
    pub grid_ids: Vec<Id>,
    /// Only residents born on or before this date (`YYYY-MM-DD`); `None`
    /// includes minors.
    pub born_on_or_before: Option<String>,
}

impl ScopeFilter {
    /// Every grid listed, minors included (for trusted internal work).
    pub fn grids(grid_ids: Vec<Id>) -> Self {
        Self {
            grid_ids,
            born_on_or_before: None,
        }
    }

    pub(crate) fn grid_ids_json(&self) -> String {
        let ids: Vec<String> = self.grid_ids.iter().map(|i| i.to_string()).collect();
        format!("[{}]", ids.join(","))
    }

    pub(crate) fn birth_cutoff(&self) -> &str {
        self.born_on_or_before.as_deref().unwrap_or("9999-12-31")
    }

    /// The latest birth date in scope (`9999-12-31` when minors are).
    pub fn birth_cutoff_or_all(&self) -> &str {
        self.birth_cutoff()
    }
}

/// A resident's fields as stored: sensitive ones encrypted, with their
/// blind index and masked form.
#[derive(Debug, Clone)]
pub struct ResidentRow {
    pub household_id: Id,
    pub grid_id: Id,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub id_cipher: Vec<u8>,
    pub id_blind: Vec<u8>,
    pub id_masked: String,
    pub phone_cipher: Option<Vec<u8>>,
    pub phone_masked: Option<String>,
    pub ethnicity: String,
    pub residence_type: String,
    pub relation: String,
    pub political_status: String,
    /// JSON array of tags.
    pub tags: String,
}

/// A business's fields as stored.
#[derive(Debug, Clone)]
pub struct BusinessRow {
    pub grid_id: Id,
    pub dwelling_id: Option<Id>,
    pub address: String,
    pub name: String,
    pub credit_code: String,
    pub legal_rep: String,
    pub phone_cipher: Option<Vec<u8>>,
    pub phone_masked: Option<String>,
    pub opening_date: Option<String>,
    pub status: String,
    pub app_status: String,
    pub app_reason: Option<String>,
    pub app_note: String,
}

#[derive(Debug, Clone)]
pub struct HouseholdRow {
    pub grid_id: Id,
    pub dwelling_id: Option<Id>,
    pub address: String,
}

#[derive(Debug, Clone)]
pub struct NewDwelling {
    pub unit_id: Id,
    pub floor: i64,
    pub number: String,
    pub dwelling_use: String,
    pub area_m2: Option<f64>,
}

/// The encrypted sensitive fields of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secrets {
    pub id_cipher: Option<Vec<u8>>,
    pub phone_cipher: Option<Vec<u8>>,
}

/// Where a user is assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Grid,
    Community,
    Street,
    Department,
}

impl ScopeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Grid => "grid",
            ScopeKind::Community => "community",
            ScopeKind::Street => "street",
            ScopeKind::Department => "department",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "grid" => Some(ScopeKind::Grid),
            "community" => Some(ScopeKind::Community),
            "street" => Some(ScopeKind::Street),
            "department" => Some(ScopeKind::Department),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: String,
    pub scopes: Vec<(ScopeKind, Id)>,
}

/// A user as stored, with the password hash, for authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: Id,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub password_hash: String,
    pub must_change_password: bool,
    pub disabled: bool,
    pub failed_logins: i64,
    pub locked_until: Option<Timestamp>,
    pub scopes: Vec<(ScopeKind, Id)>,
}

/// A session found by its token hash, with its user.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user: UserRecord,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen: Timestamp,
}

/// Which residents to list (within the scope), one page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResidentQuery {
    pub household_id: Option<Id>,
    pub grid_id: Option<Id>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HouseholdQuery {
    pub grid_id: Option<Id>,
    pub unit_id: Option<Id>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessQuery {
    pub grid_id: Option<Id>,
    pub limit: i64,
    pub offset: i64,
}

/// A new session: the hash of its token, never the token.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token_hash: Vec<u8>,
    pub user_id: Id,
    pub csrf_token: String,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    pub id: Id,
    pub code: String,
    pub name: String,
}

/// The describable parts of a building (its place and units stay).
#[derive(Debug, Clone)]
pub struct BuildingChange {
    pub name: String,
    pub address: String,
    pub floors: i64,
    pub building_use: String,
}

/// A category as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryRecord {
    pub id: Id,
    pub department_id: Option<Id>,
    pub active: bool,
    pub spec: wangge_core::category::CategorySpec,
}

/// A case's row.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub id: Id,
    pub public_code: String,
    pub category_id: Id,
    pub source: String,
    pub grid_id: Option<Id>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub address: String,
    pub description: String,
    pub urgency: String,
    pub reporter_id: Option<Id>,
    pub reporter_name: Option<String>,
    pub state: String,
    pub pending: Option<String>,
    pub level: String,
    pub resume_to: Option<String>,
    pub department_id: Option<Id>,
    pub reported_at: Timestamp,
    pub clock_start: Timestamp,
    pub step: Option<String>,
    pub step_started_at: Option<Timestamp>,
    pub extra_hours: i64,
    pub rework_count: i64,
    pub closed_at: Option<Timestamp>,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    pub answers: String,
    pub version: i64,
    /// The case this duplicate was merged into.
    pub merged_into: Option<Id>,
}

/// A new case, its first timeline entry and clock.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub public_code: String,
    pub category_id: Id,
    pub source: String,
    pub grid_id: Option<Id>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub address: String,
    pub description: String,
    pub urgency: String,
    pub reporter_id: Option<Id>,
    pub reporter_name: Option<String>,
    pub department_id: Option<Id>,
    pub at: Timestamp,
    pub answers: String,
    pub idempotency_key: Option<String>,
    pub request_hash: Option<Vec<u8>>,
}

/// The workflow facts and clock after an action.
#[derive(Debug, Clone)]
pub struct CaseChange {
    pub state: String,
    pub pending: Option<String>,
    pub level: String,
    pub resume_to: Option<String>,
    pub department_id: Option<Id>,
    pub clock_start: Timestamp,
    pub step: Option<String>,
    pub step_started_at: Option<Timestamp>,
    pub extra_hours: i64,
    pub rework_count: i64,
    pub closed_at: Option<Timestamp>,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    pub merged_into: Option<Id>,
}

impl From<&CaseRecord> for CaseChange {
    /// The case's facts and clock as they stand: a change to edit.
    fn from(c: &CaseRecord) -> Self {
        Self {
            state: c.state.clone(),
            pending: c.pending.clone(),
            level: c.level.clone(),
            resume_to: c.resume_to.clone(),
            department_id: c.department_id,
            clock_start: c.clock_start,
            step: c.step.clone(),
            step_started_at: c.step_started_at,
            extra_hours: c.extra_hours,
            rework_count: c.rework_count,
            closed_at: c.closed_at,
            rating: c.rating,
            rating_comment: c.rating_comment.clone(),
            merged_into: c.merged_into,
        }
    }
}

/// A timeline entry.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CaseEvent {
    /// Set when read back.
    pub id: Option<Id>,
    pub at: Timestamp,
    pub actor_id: Option<Id>,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: String,
    pub visibility: String,
    pub note: String,
    pub department_id: Option<Id>,
    /// Photos to attach on write (unattached uploads of the actor).
    pub photo_ids: Vec<Id>,
}

/// A hang-up starting or ending with this action.
#[derive(Debug, Clone)]
pub enum PauseChange {
    Start {
        at: Timestamp,
        reason: String,
        review_on: Option<String>,
    },
    End {
        at: Timestamp,
    },
}

/// Which cases to list: those in the grids, or dispatched to the
/// department, or reported by the user (any that apply), in these states.
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    pub grid_ids: Vec<Id>,
    pub department_id: Option<Id>,
    pub reporter_id: Option<Id>,
    pub states: Vec<String>,
    pub limit: i64,
    pub offset: i64,
}

/// A cleaned photo to store.
#[derive(Debug, Clone)]
pub struct NewPhoto {
    pub uploaded_by: Id,
    pub at: Timestamp,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
    pub bytes: Vec<u8>,
    pub thumbnail: Vec<u8>,
}

/// What is known of a photo besides its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoMeta {
    pub id: Id,
    pub uploaded_by: Id,
    pub uploaded_at: Timestamp,
    pub case_id: Option<Id>,
    pub event_id: Option<Id>,
    pub content_type: String,
    pub width: i64,
    pub height: i64,
}

/// A message for a user's inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub user_id: Id,
    pub case_id: Option<Id>,
    /// `dispatched`, `reminder`, `overdue`, `returned`, `verification_due`,
    /// `escalated`, `self_handled`, `urged`, `approval`.
    pub kind: String,
    pub at: Timestamp,
    pub message: String,
}

/// A message in a user's inbox.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub id: Id,
    pub user_id: Id,
    pub case_id: Option<Id>,
    pub kind: String,
    pub at: Timestamp,
    pub message: String,
    pub read_at: Option<Timestamp>,
}

/// Background work to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    pub kind: String,
    /// At most one queued job holds a given key (recurring jobs).
    pub unique_key: Option<String>,
    pub payload: String,
    pub run_at: Timestamp,
}

/// A job claimed for a lease.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: Id,
    pub kind: String,
    pub payload: String,
    /// Including this one.
    pub attempts: i64,
    pub run_at: Timestamp,
}

/// How a claimed job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    Done,
    /// Failed; try again at this time.
    Retry {
        at: Timestamp,
        error: String,
    },
    /// Failed for good.
    Failed {
        error: String,
    },
    /// A recurring job: run again at this time.
    Again {
        at: Timestamp,
    },
}

/// What lands together with a case write: inbox messages and jobs
/// (webhook deliveries).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effects {
    pub notifications: Vec<NewNotification>,
    pub jobs: Vec<NewJob>,
}

impl Effects {
    pub fn is_empty(&self) -> bool {
        self.notifications.is_empty() && self.jobs.is_empty()
    }
}

/// An escalation the sweeper applies with an alert, if the case is still
/// at `version`.
#[derive(Debug, Clone)]
pub struct SweepChange {
    pub version: i64,
    pub change: CaseChange,
    pub event: CaseEvent,
    pub audit: AuditEntry,
}

#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub name: String,
    pub url: String,
    pub secret: String,
    /// Event names (`case.reported`, `case.dispatched` …), or `*`.
    pub events: Vec<String>,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: Id,
    pub name: String,
    pub url: String,
    pub secret: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: Timestamp,
}

/// One delivery attempt, for the log.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAttempt {
    pub webhook_id: Id,
    pub job_id: Id,
    pub event: String,
    pub at: Timestamp,
    /// The HTTP status answered, if any.
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// An attempt as logged, with its job's standing.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAttemptRecord {
    pub id: Id,
    pub attempt: WebhookAttempt,
    /// `queued` (will retry), `done` or `failed`.
    pub job_state: String,
    pub job_attempts: i64,
}

/// An Open311 client's key, as stored (never the key itself).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: Id,
    pub name: String,
    /// The first characters of the key, to tell keys apart in lists.
    pub prefix: String,
    /// The user cases filed with this key are reported by.
    pub user_id: Id,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

/// Which public cases an Open311 list shows.
#[derive(Debug, Clone, Default)]
pub struct PublicCaseQuery {
    pub category_ids: Vec<Id>,
    pub from: Timestamp,
    pub to: Timestamp,
    /// All when empty.
    pub states: Vec<String>,
    pub limit: i64,
    pub offset: i64,
}
