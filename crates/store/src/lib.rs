//! Storage: one repository interface ([`Store`]) and one implementation per
//! backend, each on its best driver.
//!
//! - [`sqlite::SqliteStore`]: `rusqlite` with bundled SQLite; one writer
//!   thread that commits concurrent commands together (group commit) and a
//!   pool of reader threads. WAL, `synchronous=FULL`, foreign keys on,
//!   verified at open.
//! - [`postgres::PgStore`]: `sqlx`'s `PgPool`.
//!
//! SQL text is shared where the dialects agree (`sql.rs`); row mapping is
//! written once (`rows.rs`); each backend keeps its own migrations folder.

// First, so that its statement macros are visible to the backends.
#[macro_use]
mod sql;

pub mod audit;
pub mod error;
pub mod field;
pub mod model;
pub mod postgres;
mod rows;
pub mod search;
pub mod sheet;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use wangge_core::codes::{CommunityCode, GridCode};
use wangge_core::org::{BoundaryVersion, Building, CommunitySummary, GridSummary, Id, Unit};
use wangge_core::register::{Business, Dwelling, Household, Resident};

pub use audit::{AuditEntry, AuditRecord};
pub use error::{StoreError, StoreResult};
pub use model::{
    ApiKey, BoundaryChange, BoundaryChanges, BoundaryRow, BuildingChange, BulkHousehold,
    BusinessQuery, BusinessRow, CaseChange, CaseEvent, CaseQuery, CaseRecord, CategoryRecord,
    Department, Effects, HouseholdQuery, HouseholdRow, Job, JobOutcome, NewBuilding, NewCase,
    NewDoor, NewDwelling, NewJob, NewNotification, NewPhoto, NewSession, NewUnit, NewUser,
    NewWebhook, Notification, OrgNames, PauseChange, PhotoMeta, PublicCaseQuery, ResidentQuery,
    ResidentRow, ScopeFilter, ScopeKind, Secrets, SessionRecord, SweepChange, UserRecord, Webhook,
    WebhookAttempt, WebhookAttemptRecord,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The repository interface. Every method is one atomic operation.
#[async_trait]
pub trait Store: field::FieldStore + Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// Round-trips a trivial query.
    async fn health(&self) -> StoreResult<()>;

    async fn list_communities(&self) -> StoreResult<Vec<CommunitySummary>>;

    /// Grids in code order, of one community or all.
    async fn list_grids(&self, community: Option<&CommunityCode>) -> StoreResult<Vec<GridSummary>>;
    async fn grid(&self, id: Id) -> StoreResult<Option<GridSummary>>;
    async fn grid_by_code(&self, code: &GridCode) -> StoreResult<Option<GridSummary>>;

    /// Every boundary version of a grid, newest first.
    async fn boundary_history(&self, grid_id: Id) -> StoreResult<Vec<BoundaryVersion>>;
    /// Every boundary version of every grid, for the point index.
    async fn all_boundaries(&self) -> StoreResult<Vec<BoundaryRow>>;
    /// The boundaries in force of one community's grids, in code order.
    async fn current_boundaries_of_community(
        &self,
        community: &CommunityCode,
    ) -> StoreResult<Vec<BoundaryRow>>;
    /// A counter bumped by every boundary change, polled by app nodes.
    async fn boundaries_revision(&self) -> StoreResult<i64>;
    /// Applies boundary changes and building reassignments atomically:
    /// either all of them or none. Households living in a reassigned
    /// building, and their members, move to its new grid with it.
    async fn apply_boundary_changes(&self, changes: BoundaryChanges) -> StoreResult<()>;

    /// Inserts buildings with their units, atomically; returns their ids.
    async fn insert_buildings(&self, buildings: Vec<NewBuilding>) -> StoreResult<Vec<Id>>;
    /// Creates buildings with their units and dwellings (by unit number),
    /// in one transaction with one audit record (naming the building when
    /// there is one); returns their ids in order.
    async fn create_buildings(
        &self,
        buildings: Vec<(NewBuilding, Vec<NewDoor>)>,
        audit: AuditEntry,
    ) -> StoreResult<Vec<Id>>;
    /// Changes name, address, floors and use of a building in scope.
    async fn update_building(
        &self,
        scope: &ScopeFilter,
        id: Id,
        grid_id: Id,
        change: BuildingChange,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    async fn buildings_of_grid(&self, grid_id: Id) -> StoreResult<Vec<Building>>;
    async fn all_buildings(&self) -> StoreResult<Vec<Building>>;
    async fn building(&self, id: Id) -> StoreResult<Option<Building>>;
    async fn units_of_building(&self, building_id: Id) -> StoreResult<Vec<Unit>>;
    /// Buildings of one grid, if that grid is in scope.
    async fn buildings_in_scope(
        &self,
        scope: &ScopeFilter,
        grid_id: Id,
    ) -> StoreResult<Vec<Building>>;

    // ---- Register. Every read and write takes the caller's scope and
    // applies it in SQL; a record out of scope is "not found".

    /// Grids lying in any of the given grids, communities or streets.
    async fn grids_in_units(
        &self,
        grids: &[Id],
        communities: &[Id],
        streets: &[Id],
    ) -> StoreResult<Vec<Id>>;

    async fn insert_dwellings(&self, dwellings: Vec<NewDwelling>) -> StoreResult<Vec<Id>>;
    async fn dwellings_of_unit(&self, unit_id: Id) -> StoreResult<Vec<Dwelling>>;
    /// The grid of the building a dwelling is in.
    async fn dwelling_grid(&self, dwelling_id: Id) -> StoreResult<Option<Id>>;

    async fn insert_household(&self, row: HouseholdRow, audit: AuditEntry) -> StoreResult<Id>;
    /// Inserts many households with their residents (or residents into
    /// households already registered) in one transaction, under one audit
    /// record (bulk loads: the demo, imports); returns the residents added.
    async fn insert_households_bulk(
        &self,
        households: Vec<(BulkHousehold, Vec<ResidentRow>)>,
        audit: AuditEntry,
    ) -> StoreResult<usize>;
    /// Inserts many businesses in one transaction, under one audit record.
    async fn insert_businesses_bulk(
        &self,
        businesses: Vec<BusinessRow>,
        audit: AuditEntry,
    ) -> StoreResult<usize>;
    async fn households(
        &self,
        scope: &ScopeFilter,
        query: HouseholdQuery,
    ) -> StoreResult<Vec<Household>>;
    async fn household(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Household>>;
    /// `NotFound` when out of scope or absent.
    async fn update_household(
        &self,
        scope: &ScopeFilter,
        id: Id,
        address: String,
        audit: AuditEntry,
    ) -> StoreResult<()>;

    async fn insert_resident(&self, row: ResidentRow, audit: AuditEntry) -> StoreResult<Id>;
    /// `NotFound` when out of scope or absent, `Conflict` when `version` is stale.
    async fn update_resident(
        &self,
        scope: &ScopeFilter,
        id: Id,
        version: i64,
        row: ResidentRow,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    /// Removes a resident in scope from the register (moved away, deceased).
    async fn delete_resident(
        &self,
        scope: &ScopeFilter,
        id: Id,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    async fn residents(
        &self,
        scope: &ScopeFilter,
        query: ResidentQuery,
    ) -> StoreResult<Vec<Resident>>;
    async fn resident(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Resident>>;
    async fn resident_by_blind_index(
        &self,
        scope: &ScopeFilter,
        blind: &[u8],
    ) -> StoreResult<Option<Resident>>;
    async fn resident_secrets(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Secrets>>;

    async fn insert_business(&self, row: BusinessRow, audit: AuditEntry) -> StoreResult<Id>;
    async fn update_business(
        &self,
        scope: &ScopeFilter,
        id: Id,
        version: i64,
        row: BusinessRow,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    async fn businesses(
        &self,
        scope: &ScopeFilter,
        query: BusinessQuery,
    ) -> StoreResult<Vec<Business>>;
    async fn business(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Business>>;
    async fn business_secrets(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Secrets>>;

    // ---- Users and sessions.

    async fn insert_user(&self, user: NewUser, audit: AuditEntry) -> StoreResult<Id>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>>;
    async fn user(&self, id: Id) -> StoreResult<Option<UserRecord>>;
    async fn users(&self) -> StoreResult<Vec<UserRecord>>;
    /// Sets a password, clears any lockout and ends every session of the user.
    async fn set_password(
        &self,
        user_id: Id,
        hash: String,
        must_change: bool,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    /// Disabling also ends every session of the user.
    async fn set_disabled(&self, user_id: Id, disabled: bool, audit: AuditEntry)
    -> StoreResult<()>;
    /// Counts a failed login; returns the lock's end when this one locked it.
    async fn record_login_failure(
        &self,
        user_id: Id,
        max_failures: i64,
        lock_until: Timestamp,
        audit: AuditEntry,
    ) -> StoreResult<Option<Timestamp>>;
    /// Clears failures, opens `session` and ends `replaces` (rotation).
    async fn record_login_success(
        &self,
        session: NewSession,
        replaces: Option<Vec<u8>>,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, token_hash: &[u8], at: Timestamp) -> StoreResult<()>;
    async fn delete_session(&self, token_hash: &[u8], audit: Option<AuditEntry>)
    -> StoreResult<()>;

    async fn insert_department(&self, code: &str, name: &str) -> StoreResult<Id>;
    async fn departments(&self) -> StoreResult<Vec<Department>>;

    // ---- Cases. Who may see a case is decided by the app (workflow
    // standing); lists take the grids, department and reporter to show.

    /// Adds missing categories (by code) and calendar days; existing ones
    /// are left as edited.
    async fn seed_categories(
        &self,
        categories: Vec<(wangge_core::category::CategorySpec, Option<Id>)>,
    ) -> StoreResult<()>;
    async fn categories(&self) -> StoreResult<Vec<CategoryRecord>>;
    async fn seed_calendar_days(&self, days: Vec<(String, String, String)>) -> StoreResult<()>;
    /// `(day, kind, name)`, kind `holiday` or `workday`.
    async fn calendar_days(&self) -> StoreResult<Vec<(String, String, String)>>;
    /// Sets (or, with `None`, removes) a day that differs from "weekdays
    /// work, weekends rest"; `NotFound` when removing a day not set.
    async fn set_calendar_day(
        &self,
        day: String,
        kind_and_name: Option<(String, String)>,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    async fn routing_rules(&self) -> StoreResult<Vec<wangge_core::routing::RoutingRule>>;
    /// Adds a routing rule (its `id` is ignored); `Conflict` when one for
    /// the same category and place exists.
    async fn insert_routing_rule(
        &self,
        rule: wangge_core::routing::RoutingRule,
        audit: AuditEntry,
    ) -> StoreResult<Id>;
    /// `NotFound` when there is no such rule.
    async fn delete_routing_rule(&self, id: Id, audit: AuditEntry) -> StoreResult<()>;
    /// Replaces a category's name, department, limits, closure condition,
    /// questions and flags (its code, parent and kind stay).
    async fn update_category(&self, category: CategoryRecord, audit: AuditEntry)
    -> StoreResult<()>;
    /// Inserts a case with its first timeline entry (and the photos it
    /// names) and its effects. `Conflict` when the reporter already used
    /// the idempotency key, or a photo is not the reporter's unattached
    /// upload.
    async fn insert_case(
        &self,
        case: NewCase,
        event: CaseEvent,
        effects: Effects,
        audit: AuditEntry,
    ) -> StoreResult<Id>;
    /// The case a reporter filed under an idempotency key, and its request hash.
    async fn case_by_idempotency(
        &self,
        reporter_id: Id,
        key: &str,
    ) -> StoreResult<Option<(Id, Option<Vec<u8>>)>>;
    async fn case(&self, id: Id) -> StoreResult<Option<CaseRecord>>;
    async fn case_count(&self) -> StoreResult<i64>;
    /// Open cases of a category inside a lat/lon box (for duplicates).
    async fn open_cases_in_box(
        &self,
        category_id: Id,
        lat: (f64, f64),
        lon: (f64, f64),
    ) -> StoreResult<Vec<CaseRecord>>;
    async fn case_by_code(&self, public_code: &str) -> StoreResult<Option<CaseRecord>>;
    async fn cases(&self, query: CaseQuery) -> StoreResult<Vec<CaseRecord>>;
    /// Public timeline entries of public cases in `[from, to]`, oldest
    /// first: `(event id, public code, at, state after, note)`.
    async fn public_updates(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<(Id, String, Timestamp, String, String)>>;
    /// Cases of some categories in a time window (Open311 lists).
    async fn public_cases(&self, query: PublicCaseQuery) -> StoreResult<Vec<CaseRecord>>;
    /// Applies an action if the case is still at `version` (else
    /// `Conflict`), with its timeline entry, photos and effects.
    #[allow(clippy::too_many_arguments)]
    async fn update_case(
        &self,
        id: Id,
        version: i64,
        change: CaseChange,
        event: CaseEvent,
        pause: Option<PauseChange>,
        effects: Effects,
        audit: AuditEntry,
    ) -> StoreResult<()>;
    async fn case_events(&self, id: Id) -> StoreResult<Vec<CaseEvent>>;
    /// `(from, to)` of every hang-up, in order.
    async fn case_pauses(&self, id: Id) -> StoreResult<Vec<(Timestamp, Option<Timestamp>)>>;

    /// Open cases not on hold, for the sweeper.
    async fn sweepable_cases(&self) -> StoreResult<Vec<CaseRecord>>;
    /// Raises an alert on a case once: when `(case_id, key)` is new, its
    /// effects land and the escalation (if any, and if the case is still
    /// at its version) is applied, atomically. `true` when it was new.
    async fn raise_alert(
        &self,
        case_id: Id,
        key: String,
        at: Timestamp,
        effects: Effects,
        escalation: Option<SweepChange>,
    ) -> StoreResult<bool>;

    // ---- Photos.

    async fn insert_photo(&self, photo: NewPhoto) -> StoreResult<Id>;
    async fn photo_meta(&self, id: Id) -> StoreResult<Option<PhotoMeta>>;
    /// `(bytes, thumbnail)`.
    async fn photo_bytes(&self, id: Id) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>>;
    async fn case_photos(&self, case_id: Id) -> StoreResult<Vec<PhotoMeta>>;
    /// Deletes uploads never attached, older than `before`; how many.
    async fn delete_orphan_photos(&self, before: Timestamp) -> StoreResult<u64>;

    // ---- The inbox.

    /// Newest first.
    async fn notifications(
        &self,
        user_id: Id,
        unread_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<Notification>>;
    async fn unread_notifications(&self, user_id: Id) -> StoreResult<i64>;
    /// Marks one (or, with `None`, every) message of the user read; returns how many.
    async fn mark_notifications_read(
        &self,
        user_id: Id,
        id: Option<Id>,
        at: Timestamp,
    ) -> StoreResult<u64>;

    // ---- Jobs. Claimed for a lease by one node; on PostgreSQL with
    // `FOR UPDATE SKIP LOCKED`.

    /// Queues jobs; one with a `unique_key` already queued is skipped.
    async fn enqueue_jobs(&self, jobs: Vec<NewJob>) -> StoreResult<()>;
    async fn claim_jobs(
        &self,
        kind: &str,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<Job>>;
    /// Ends the lease of `worker` on a job, logging a webhook attempt with it.
    async fn finish_job(
        &self,
        id: Id,
        worker: &str,
        outcome: JobOutcome,
        attempt: Option<WebhookAttempt>,
    ) -> StoreResult<()>;
    /// `(kind, state, count)`.
    async fn job_counts(&self) -> StoreResult<Vec<(String, String, i64)>>;

    // ---- Webhooks.

    async fn insert_webhook(&self, hook: NewWebhook, audit: AuditEntry) -> StoreResult<Id>;
    async fn webhooks(&self) -> StoreResult<Vec<Webhook>>;
    async fn set_webhook_active(&self, id: Id, active: bool, audit: AuditEntry) -> StoreResult<()>;
    /// The delivery log of a webhook, newest first.
    async fn webhook_attempts(
        &self,
        webhook_id: Id,
        limit: i64,
    ) -> StoreResult<Vec<WebhookAttemptRecord>>;

    // ---- API keys (Open311 clients).

    /// Creates the client's user (which cannot sign in) and its key,
    /// atomically; `Conflict` when the name is taken.
    async fn insert_api_key(
        &self,
        user: NewUser,
        name: String,
        key_hash: Vec<u8>,
        prefix: String,
        at: Timestamp,
        audit: AuditEntry,
    ) -> StoreResult<ApiKey>;
    async fn api_keys(&self) -> StoreResult<Vec<ApiKey>>;
    /// Adds a client's update to a case's timeline once per `(key,
    /// update_id)`: `(event id, true)` when new, the first one's id and
    /// `false` when the client sent it before.
    async fn add_client_update(
        &self,
        api_key_id: Id,
        update_id: String,
        case_id: Id,
        event: CaseEvent,
        audit: AuditEntry,
    ) -> StoreResult<(Id, bool)>;
    async fn api_key_by_hash(&self, key_hash: &[u8]) -> StoreResult<Option<ApiKey>>;
    /// `NotFound` when there is no live key of that name.
    async fn revoke_api_key(&self, name: &str, at: Timestamp, audit: AuditEntry)
    -> StoreResult<()>;

    // ---- Audit.

    /// Appends one record on its own (reveals, exports, logins).
    async fn append_audit(&self, entry: AuditEntry) -> StoreResult<()>;
    /// Records after `after_seq`, in order, at most `limit`.
    async fn audit_records(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditRecord>>;
}

/// Settings that apply to whichever backend the URL selects.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Reader threads (SQLite) or pool size (PostgreSQL).
    pub readers: usize,
    pub max_pg_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            readers: 4,
            max_pg_connections: 16,
        }
    }
}

/// Opens the store a URL names and brings its schema up to date.
///
/// `postgres://…` or `postgresql://…` selects PostgreSQL; `sqlite://PATH`,
/// `sqlite:PATH` or a plain path selects SQLite.
pub async fn connect(url: &str, options: &StoreOptions) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PgStore::connect(url, options.max_pg_connections).await?;
        store.migrate().await?;
        Ok(Arc::new(store))
    } else {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err(StoreError::Config("empty SQLite path".into()));
        }
        let store = sqlite::SqliteStore::open(path.as_ref(), options.readers).await?;
        Ok(Arc::new(store))
    }
}

/// Redacts the password of a database URL for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme_end + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("postgres://app:s3cret@db:5432/wangge"),
            "postgres://app:***@db:5432/wangge"
        );
        assert_eq!(
            super::redact_url("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(super::redact_url("./wangge.db"), "./wangge.db");
    }
}
