//! The PostgreSQL backend: `sqlx`'s `PgPool` (never `AnyPool`).

mod cases;
mod field;
pub(crate) mod register;
mod work;

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Postgres, Transaction};
use wangge_core::codes::{CommunityCode, GridCode};
use wangge_core::org::{BoundaryVersion, Building, CommunitySummary, GridSummary, Id, Unit};
use wangge_core::time;

use crate::audit::{AuditEntry, AuditRecord};
use crate::error::{StoreError, StoreResult};
use crate::model::{
    BoundaryChange, BoundaryChanges, BoundaryRow, BulkHousehold, BusinessQuery, BusinessRow,
    Department, HouseholdQuery, HouseholdRow, NewBuilding, NewDoor, NewDwelling, NewSession,
    NewUser, OrgNames, ResidentQuery, ResidentRow, ScopeFilter, Secrets, SessionRecord, UserRecord,
    org_codes,
};
use crate::model::{
    CaseChange, CaseEvent, CaseQuery, CaseRecord, CategoryRecord, Effects, Job, JobOutcome,
    NewCase, NewJob, NewPhoto, NewWebhook, Notification, PauseChange, PhotoMeta, SweepChange,
    Webhook, WebhookAttempt, WebhookAttemptRecord,
};
use crate::sqlite::redraw_conflict;
use crate::{Backend, Store, rows, sql};
use jiff::Timestamp;
use wangge_core::register::{Business, Dwelling, Household, Resident};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("bad PostgreSQL URL: {e}")))?;
        Self::connect_with(options, max_connections).await
    }

    pub async fn connect_with(
        options: PgConnectOptions,
        max_connections: u32,
    ) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(std::time::Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool })
    }

    pub async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn fetch_all<T>(
        &self,
        query: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
        map: fn(&PgRow) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        query.fetch_all(&self.pool).await?.iter().map(map).collect()
    }

    async fn fetch_opt<T>(
        &self,
        query: sqlx::query::Query<'_, Postgres, sqlx::postgres::PgArguments>,
        map: fn(&PgRow) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        query
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(map)
            .transpose()
    }
}

async fn id_of(
    tx: &mut Transaction<'_, Postgres>,
    sql: &'static str,
    code: &str,
) -> StoreResult<Option<Id>> {
    Ok(sqlx::query_scalar(sql)
        .bind(code)
        .fetch_optional(&mut **tx)
        .await?)
}

/// Finds or creates the org units above a grid code; returns the community id.
async fn ensure_org(
    tx: &mut Transaction<'_, Postgres>,
    code: &GridCode,
    names: &OrgNames,
) -> StoreResult<Id> {
    let (district, street, community) = org_codes(code);
    let missing = |level: &str, code: &str| {
        StoreError::NotFound(format!(
            "{level} {code} does not exist and no name was given for it"
        ))
    };
    if let Some(name) = &names.district {
        sqlx::query(sql::INSERT_DISTRICT)
            .bind(district.as_str())
            .bind(name)
            .execute(&mut **tx)
            .await?;
    }
    let district_id = id_of(tx, sql::DISTRICT_ID, district.as_str())
        .await?
        .ok_or_else(|| missing("district", district.as_str()))?;
    if let Some(name) = &names.street {
        sqlx::query(sql::INSERT_STREET)
            .bind(district_id)
            .bind(street.as_str())
            .bind(name)
            .execute(&mut **tx)
            .await?;
    }
    let street_id = id_of(tx, sql::STREET_ID, street.as_str())
        .await?
        .ok_or_else(|| missing("street", street.as_str()))?;
    if let Some(name) = &names.community {
        sqlx::query(sql::INSERT_COMMUNITY)
            .bind(street_id)
            .bind(community.as_str())
            .bind(name)
            .execute(&mut **tx)
            .await?;
    }
    id_of(tx, sql::COMMUNITY_ID, community.as_str())
        .await?
        .ok_or_else(|| missing("community", community.as_str()))
}

async fn apply_changes(
    tx: &mut Transaction<'_, Postgres>,
    changes: &BoundaryChanges,
) -> StoreResult<()> {
    let effective = time::to_micros(changes.effective);
    let recorded = time::to_micros(changes.recorded_at);
    for change in &changes.changes {
        match change {
            BoundaryChange::Create {
                code,
                name,
                external_code,
                names,
                geometry,
            } => {
                let community_id = ensure_org(tx, code, names).await?;
                let grid_id: Id = sqlx::query_scalar(sql::INSERT_GRID)
                    .bind(community_id)
                    .bind(code.as_str())
                    .bind(name)
                    .bind(external_code.as_ref().map(|c| c.as_str()))
                    .bind(recorded)
                    .fetch_one(&mut **tx)
                    .await?;
                sqlx::query(sql::INSERT_BOUNDARY)
                    .bind(grid_id)
                    .bind(1i64)
                    .bind(effective)
                    .bind(geometry)
                    .bind(recorded)
                    .execute(&mut **tx)
                    .await?;
            }
            BoundaryChange::Redraw {
                grid_id,
                expected_version,
                geometry,
            } => {
                let closed = sqlx::query(sql::CLOSE_BOUNDARY)
                    .bind(effective)
                    .bind(grid_id)
                    .bind(expected_version)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                if closed != 1 {
                    return Err(redraw_conflict(*grid_id, *expected_version));
                }
                sqlx::query(sql::INSERT_BOUNDARY)
                    .bind(grid_id)
                    .bind(expected_version + 1)
                    .bind(effective)
                    .bind(geometry)
                    .bind(recorded)
                    .execute(&mut **tx)
                    .await?;
            }
            BoundaryChange::Rename {
                grid_id,
                name,
                external_code,
            } => {
                sqlx::query(sql::RENAME_GRID)
                    .bind(name)
                    .bind(external_code.as_ref().map(|c| c.as_str()))
                    .bind(grid_id)
                    .execute(&mut **tx)
                    .await?;
            }
        }
    }
    for (building_id, code) in &changes.reassign_buildings {
        let grid_id = id_of(tx, sql::GRID_ID, code.as_str())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("grid {code}")))?;
        for statement in [
            sql::REASSIGN_BUILDING,
            sql::REASSIGN_HOUSEHOLDS,
            sql::REASSIGN_RESIDENTS,
        ] {
            sqlx::query(statement)
                .bind(grid_id)
                .bind(building_id)
                .execute(&mut **tx)
                .await?;
        }
        for statement in [
            crate::search::REGRID_RESIDENTS,
            crate::search::REGRID_HOUSEHOLDS,
        ] {
            sqlx::query(statement)
                .bind(building_id)
                .execute(&mut **tx)
                .await?;
        }
    }
    sqlx::query(sql::BUMP_BOUNDARIES_REVISION)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn health(&self) -> StoreResult<()> {
        sqlx::query(sql::HEALTH).execute(&self.pool).await?;
        Ok(())
    }

    async fn list_communities(&self) -> StoreResult<Vec<CommunitySummary>> {
        self.fetch_all(sqlx::query(sql::LIST_COMMUNITIES), rows::community_summary)
            .await
    }

    async fn list_grids(&self, community: Option<&CommunityCode>) -> StoreResult<Vec<GridSummary>> {
        let query = match community {
            Some(c) => sqlx::query(sql::LIST_GRIDS_OF_COMMUNITY).bind(c.as_str().to_owned()),
            None => sqlx::query(sql::LIST_GRIDS),
        };
        self.fetch_all(query, rows::grid_summary).await
    }

    async fn grid(&self, id: Id) -> StoreResult<Option<GridSummary>> {
        self.fetch_opt(sqlx::query(sql::GRID_BY_ID).bind(id), rows::grid_summary)
            .await
    }

    async fn grid_by_code(&self, code: &GridCode) -> StoreResult<Option<GridSummary>> {
        self.fetch_opt(
            sqlx::query(sql::GRID_BY_CODE).bind(code.as_str().to_owned()),
            rows::grid_summary,
        )
        .await
    }

    async fn boundary_history(&self, grid_id: Id) -> StoreResult<Vec<BoundaryVersion>> {
        self.fetch_all(
            sqlx::query(sql::BOUNDARY_HISTORY).bind(grid_id),
            rows::boundary_version,
        )
        .await
    }

    async fn all_boundaries(&self) -> StoreResult<Vec<BoundaryRow>> {
        self.fetch_all(sqlx::query(sql::ALL_BOUNDARIES), rows::boundary_row)
            .await
    }

    async fn current_boundaries_of_community(
        &self,
        community: &CommunityCode,
    ) -> StoreResult<Vec<BoundaryRow>> {
        self.fetch_all(
            sqlx::query(sql::CURRENT_BOUNDARIES_OF_COMMUNITY).bind(community.as_str().to_owned()),
            rows::boundary_row,
        )
        .await
    }

    async fn boundaries_revision(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(sql::BOUNDARIES_REVISION)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn apply_boundary_changes(&self, changes: BoundaryChanges) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        apply_changes(&mut tx, &changes).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn insert_buildings(&self, buildings: Vec<NewBuilding>) -> StoreResult<Vec<Id>> {
        let mut tx = self.pool.begin().await?;
        let mut ids = Vec::with_capacity(buildings.len());
        for b in &buildings {
            ids.push(register::insert_building_row(&mut tx, b).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn buildings_of_grid(&self, grid_id: Id) -> StoreResult<Vec<Building>> {
        self.fetch_all(
            sqlx::query(sql::BUILDINGS_OF_GRID).bind(grid_id),
            rows::building,
        )
        .await
    }

    async fn all_buildings(&self) -> StoreResult<Vec<Building>> {
        self.fetch_all(sqlx::query(sql::ALL_BUILDINGS), rows::building)
            .await
    }

    async fn building(&self, id: Id) -> StoreResult<Option<Building>> {
        self.fetch_opt(sqlx::query(sql::BUILDING_BY_ID).bind(id), rows::building)
            .await
    }

    async fn units_of_building(&self, building_id: Id) -> StoreResult<Vec<Unit>> {
        self.fetch_all(
            sqlx::query(sql::UNITS_OF_BUILDING).bind(building_id),
            rows::unit,
        )
        .await
    }

    async fn buildings_in_scope(
        &self,
        scope: &ScopeFilter,
        grid_id: Id,
    ) -> StoreResult<Vec<Building>> {
        register::buildings_in_scope(&self.pool, scope, grid_id).await
    }

    async fn grids_in_units(
        &self,
        grids: &[Id],
        communities: &[Id],
        streets: &[Id],
    ) -> StoreResult<Vec<Id>> {
        register::grids_in_units(&self.pool, grids, communities, streets).await
    }

    async fn insert_dwellings(&self, dwellings: Vec<NewDwelling>) -> StoreResult<Vec<Id>> {
        register::insert_dwellings(&self.pool, &dwellings).await
    }

    async fn dwellings_of_unit(&self, unit_id: Id) -> StoreResult<Vec<Dwelling>> {
        register::dwellings_of_unit(&self.pool, unit_id).await
    }

    async fn dwelling_grid(&self, dwelling_id: Id) -> StoreResult<Option<Id>> {
        Ok(sqlx::query_scalar(sql::DWELLING_GRID)
            .bind(dwelling_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn insert_household(&self, row: HouseholdRow, audit: AuditEntry) -> StoreResult<Id> {
        register::insert_household(&self.pool, row, audit).await
    }

    async fn households(
        &self,
        scope: &ScopeFilter,
        query: HouseholdQuery,
    ) -> StoreResult<Vec<Household>> {
        register::households(&self.pool, scope, query).await
    }

    async fn household(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Household>> {
        register::household(&self.pool, scope, id).await
    }

    async fn insert_households_bulk(
        &self,
        households: Vec<(BulkHousehold, Vec<ResidentRow>)>,
        audit: AuditEntry,
    ) -> StoreResult<usize> {
        register::insert_households_bulk(&self.pool, households, audit).await
    }

    async fn insert_businesses_bulk(
        &self,
        businesses: Vec<BusinessRow>,
        audit: AuditEntry,
    ) -> StoreResult<usize> {
        register::insert_businesses_bulk(&self.pool, businesses, audit).await
    }

    async fn update_household(
        &self,
        scope: &ScopeFilter,
        id: Id,
        address: String,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        register::update_household(&self.pool, scope, id, address, audit).await
    }

    async fn create_buildings(
        &self,
        buildings: Vec<(NewBuilding, Vec<NewDoor>)>,
        audit: AuditEntry,
    ) -> StoreResult<Vec<Id>> {
        register::create_buildings(&self.pool, buildings, audit).await
    }

    async fn update_building(
        &self,
        scope: &ScopeFilter,
        id: Id,
        grid_id: Id,
        change: crate::model::BuildingChange,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        register::update_building(&self.pool, scope, id, grid_id, change, audit).await
    }

    async fn delete_resident(
        &self,
        scope: &ScopeFilter,
        id: Id,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        register::delete_resident(&self.pool, scope, id, audit).await
    }

    async fn insert_resident(&self, row: ResidentRow, audit: AuditEntry) -> StoreResult<Id> {
        register::insert_resident(&self.pool, row, audit).await
    }

    async fn update_resident(
        &self,
        scope: &ScopeFilter,
        id: Id,
        version: i64,
        row: ResidentRow,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        register::update_resident(&self.pool, scope, id, version, row, audit).await
    }

    async fn residents(
        &self,
        scope: &ScopeFilter,
        query: ResidentQuery,
    ) -> StoreResult<Vec<Resident>> {
        register::residents(&self.pool, scope, query).await
    }

    async fn resident(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Resident>> {
        register::resident(&self.pool, scope, id).await
    }

    async fn resident_by_blind_index(
        &self,
        scope: &ScopeFilter,
        blind: &[u8],
    ) -> StoreResult<Option<Resident>> {
        register::resident_by_blind(&self.pool, scope, blind).await
    }

    async fn resident_secrets(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Secrets>> {
        register::resident_secrets(&self.pool, scope, id).await
    }

    async fn insert_business(&self, row: BusinessRow, audit: AuditEntry) -> StoreResult<Id> {
        register::insert_business(&self.pool, row, audit).await
    }

    async fn update_business(
        &self,
        scope: &ScopeFilter,
        id: Id,
        version: i64,
        row: BusinessRow,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        register::update_business(&self.pool, scope, id, version, row, audit).await
    }

    async fn businesses(
        &self,
        scope: &ScopeFilter,
        query: BusinessQuery,
    ) -> StoreResult<Vec<Business>> {
        register::businesses(&self.pool, scope, query).await
    }

    async fn business(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Business>> {
        register::business(&self.pool, scope, id).await
    }

    async fn business_secrets(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Secrets>> {
        register::business_secrets(&self.pool, scope, id).await
    }

    async fn insert_user(&self, user: NewUser, audit: AuditEntry) -> StoreResult<Id> {
        register::insert_user(&self.pool, user, audit).await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        register::user_by_username(&self.pool, username).await
    }

    async fn user(&self, id: Id) -> StoreResult<Option<UserRecord>> {
        register::user(&self.pool, id).await
    }

    async fn users(&self) -> StoreResult<Vec<UserRecord>> {
        register::users(&self.pool).await
    }

    async fn set_password(
        &self,
        user_id: Id,
        hash: String,
        must_change: bool,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        register::set_password(&self.pool, user_id, hash, must_change, audit).await
    }

    async fn set_disabled(
        &self,
        user_id: Id,
        disabled: bool,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        register::set_disabled(&self.pool, user_id, disabled, audit).await
    }

    async fn record_login_failure(
        &self,
        user_id: Id,
        max_failures: i64,
        lock_until: Timestamp,
        audit: AuditEntry,
    ) -> StoreResult<Option<Timestamp>> {
        register::record_login_failure(&self.pool, user_id, max_failures, lock_until, audit).await
    }

    async fn record_login_success(
        &self,
        session: NewSession,
        replaces: Option<Vec<u8>>,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        register::record_login_success(&self.pool, session, replaces, audit).await
    }

    async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<SessionRecord>> {
        register::session(&self.pool, token_hash).await
    }

    async fn touch_session(&self, token_hash: &[u8], at: Timestamp) -> StoreResult<()> {
        sqlx::query(sql::TOUCH_SESSION)
            .bind(time::to_micros(at))
            .bind(token_hash.to_vec())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_session(
        &self,
        token_hash: &[u8],
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        register::delete_session(&self.pool, token_hash, audit).await
    }

    async fn insert_department(&self, code: &str, name: &str) -> StoreResult<Id> {
        register::insert_department(&self.pool, code, name).await
    }

    async fn departments(&self) -> StoreResult<Vec<Department>> {
        register::departments(&self.pool).await
    }

    async fn append_audit(&self, entry: AuditEntry) -> StoreResult<()> {
        register::append_audit_alone(&self.pool, entry).await
    }

    async fn audit_records(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditRecord>> {
        register::audit_records(&self.pool, after_seq, limit).await
    }

    async fn seed_categories(
        &self,
        categories: Vec<(wangge_core::category::CategorySpec, Option<Id>)>,
    ) -> StoreResult<()> {
        cases::seed_categories(&self.pool, categories).await
    }

    async fn categories(&self) -> StoreResult<Vec<CategoryRecord>> {
        cases::categories(&self.pool).await
    }

    async fn seed_calendar_days(&self, days: Vec<(String, String, String)>) -> StoreResult<()> {
        cases::seed_calendar_days(&self.pool, days).await
    }

    async fn calendar_days(&self) -> StoreResult<Vec<(String, String, String)>> {
        cases::calendar_days(&self.pool).await
    }

    async fn set_calendar_day(
        &self,
        day: String,
        kind_and_name: Option<(String, String)>,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        cases::set_calendar_day(&self.pool, day, kind_and_name, audit).await
    }

    async fn update_category(
        &self,
        category: CategoryRecord,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        cases::update_category(&self.pool, category, audit).await
    }

    async fn routing_rules(&self) -> StoreResult<Vec<wangge_core::routing::RoutingRule>> {
        cases::routing_rules(&self.pool).await
    }

    async fn insert_routing_rule(
        &self,
        rule: wangge_core::routing::RoutingRule,
        audit: AuditEntry,
    ) -> StoreResult<Id> {
        cases::insert_routing_rule(&self.pool, rule, audit).await
    }

    async fn delete_routing_rule(&self, id: Id, audit: AuditEntry) -> StoreResult<()> {
        cases::delete_routing_rule(&self.pool, id, audit).await
    }

    async fn insert_case(
        &self,
        case: NewCase,
        event: CaseEvent,
        effects: Effects,
        audit: AuditEntry,
    ) -> StoreResult<Id> {
        cases::insert_case(&self.pool, case, event, effects, audit).await
    }

    async fn case_by_idempotency(
        &self,
        reporter_id: Id,
        key: &str,
    ) -> StoreResult<Option<(Id, Option<Vec<u8>>)>> {
        cases::case_by_idempotency(&self.pool, reporter_id, key).await
    }

    async fn case(&self, id: Id) -> StoreResult<Option<CaseRecord>> {
        cases::case_by_id(&self.pool, id).await
    }

    async fn open_cases_in_box(
        &self,
        category_id: Id,
        lat: (f64, f64),
        lon: (f64, f64),
    ) -> StoreResult<Vec<CaseRecord>> {
        sqlx::query(sql::OPEN_CASES_IN_BOX)
            .bind(category_id)
            .bind(lat.0)
            .bind(lat.1)
            .bind(lon.0)
            .bind(lon.1)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::case)
            .collect()
    }

    async fn case_count(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(sql::CASE_COUNT)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn case_by_code(&self, public_code: &str) -> StoreResult<Option<CaseRecord>> {
        cases::case_by_code(&self.pool, public_code).await
    }

    async fn cases(&self, query: CaseQuery) -> StoreResult<Vec<CaseRecord>> {
        cases::cases(&self.pool, query).await
    }

    async fn update_case(
        &self,
        id: Id,
        version: i64,
        change: CaseChange,
        event: CaseEvent,
        pause: Option<PauseChange>,
        effects: Effects,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        cases::update_case(
            &self.pool, id, version, change, event, pause, effects, audit,
        )
        .await
    }

    async fn case_events(&self, id: Id) -> StoreResult<Vec<CaseEvent>> {
        cases::case_events(&self.pool, id).await
    }

    async fn case_pauses(&self, id: Id) -> StoreResult<Vec<(Timestamp, Option<Timestamp>)>> {
        cases::case_pauses(&self.pool, id).await
    }

    async fn insert_api_key(
        &self,
        user: NewUser,
        name: String,
        key_hash: Vec<u8>,
        prefix: String,
        at: Timestamp,
        audit: AuditEntry,
    ) -> StoreResult<crate::model::ApiKey> {
        work::insert_api_key(&self.pool, user, name, key_hash, prefix, at, audit).await
    }

    async fn add_client_update(
        &self,
        api_key_id: Id,
        update_id: String,
        case_id: Id,
        event: CaseEvent,
        audit: AuditEntry,
    ) -> StoreResult<(Id, bool)> {
        cases::add_client_update(&self.pool, api_key_id, update_id, case_id, event, audit).await
    }

    async fn api_keys(&self) -> StoreResult<Vec<crate::model::ApiKey>> {
        work::api_keys(&self.pool).await
    }

    async fn api_key_by_hash(&self, key_hash: &[u8]) -> StoreResult<Option<crate::model::ApiKey>> {
        work::api_key_by_hash(&self.pool, key_hash).await
    }

    async fn revoke_api_key(
        &self,
        name: &str,
        at: Timestamp,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        work::revoke_api_key(&self.pool, name, at, audit).await
    }

    async fn public_updates(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<(Id, String, Timestamp, String, String)>> {
        let rows: Vec<(i64, String, i64, String, String)> = sqlx::query_as(sql::PUBLIC_UPDATES)
            .bind(wangge_core::time::to_micros(from))
            .bind(wangge_core::time::to_micros(to))
            .bind(true)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, code, at, state, note)| {
                (id, code, wangge_core::time::from_micros(at), state, note)
            })
            .collect())
    }

    async fn public_cases(
        &self,
        query: crate::model::PublicCaseQuery,
    ) -> StoreResult<Vec<CaseRecord>> {
        cases::public_cases(&self.pool, query).await
    }

    async fn sweepable_cases(&self) -> StoreResult<Vec<CaseRecord>> {
        sqlx::query(sql::SWEEPABLE_CASES)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(rows::case)
            .collect()
    }

    async fn raise_alert(
        &self,
        case_id: Id,
        key: String,
        at: Timestamp,
        effects: Effects,
        escalation: Option<SweepChange>,
    ) -> StoreResult<bool> {
        cases::raise_alert(&self.pool, case_id, key, at, effects, escalation).await
    }

    async fn insert_photo(&self, photo: NewPhoto) -> StoreResult<Id> {
        work::insert_photo(&self.pool, photo).await
    }

    async fn photo_meta(&self, id: Id) -> StoreResult<Option<PhotoMeta>> {
        work::photo_meta(&self.pool, id).await
    }

    async fn photo_bytes(&self, id: Id) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>> {
        work::photo_bytes(&self.pool, id).await
    }

    async fn case_photos(&self, case_id: Id) -> StoreResult<Vec<PhotoMeta>> {
        work::case_photos(&self.pool, case_id).await
    }

    async fn delete_orphan_photos(&self, before: Timestamp) -> StoreResult<u64> {
        Ok(sqlx::query(sql::DELETE_ORPHAN_PHOTOS)
            .bind(wangge_core::time::to_micros(before))
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn notifications(
        &self,
        user_id: Id,
        unread_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<Notification>> {
        work::notifications(&self.pool, user_id, unread_only, limit).await
    }

    async fn unread_notifications(&self, user_id: Id) -> StoreResult<i64> {
        work::unread_notifications(&self.pool, user_id).await
    }

    async fn mark_notifications_read(
        &self,
        user_id: Id,
        id: Option<Id>,
        at: Timestamp,
    ) -> StoreResult<u64> {
        work::mark_notifications_read(&self.pool, user_id, id, at).await
    }

    async fn enqueue_jobs(&self, jobs: Vec<NewJob>) -> StoreResult<()> {
        work::enqueue_jobs(&self.pool, jobs).await
    }

    async fn claim_jobs(
        &self,
        kind: &str,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<Job>> {
        work::claim_jobs(&self.pool, kind, worker, now, lease_until, limit).await
    }

    async fn finish_job(
        &self,
        id: Id,
        worker: &str,
        outcome: JobOutcome,
        attempt: Option<WebhookAttempt>,
    ) -> StoreResult<()> {
        work::finish_job(&self.pool, id, worker, outcome, attempt).await
    }

    async fn job_counts(&self) -> StoreResult<Vec<(String, String, i64)>> {
        work::job_counts(&self.pool).await
    }

    async fn insert_webhook(&self, hook: NewWebhook, audit: AuditEntry) -> StoreResult<Id> {
        work::insert_webhook(&self.pool, hook, audit).await
    }

    async fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        work::webhooks(&self.pool).await
    }

    async fn set_webhook_active(&self, id: Id, active: bool, audit: AuditEntry) -> StoreResult<()> {
        work::set_webhook_active(&self.pool, id, active, audit).await
    }

    async fn webhook_attempts(
        &self,
        webhook_id: Id,
        limit: i64,
    ) -> StoreResult<Vec<WebhookAttemptRecord>> {
        work::webhook_attempts(&self.pool, webhook_id, limit).await
    }
}
