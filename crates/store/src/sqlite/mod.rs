//! The SQLite backend: `rusqlite`, a group-commit writer thread and reader
//! threads (see [`worker`]).

mod cases;
mod field;
pub(crate) mod register;
mod work;
pub mod worker;

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use wangge_core::codes::{CommunityCode, GridCode};
use wangge_core::org::{BoundaryVersion, Building, CommunitySummary, GridSummary, Id, Unit};
use wangge_core::time;

use crate::audit::{AuditEntry, AuditRecord};
use crate::error::{StoreError, StoreResult};
use crate::model::{
    BoundaryChange, BoundaryChanges, BoundaryRow, BulkHousehold, BusinessQuery, BusinessRow,
    Department, HouseholdQuery, HouseholdRow, NewBuilding, NewDoor, NewDwelling, NewSession,
    NewUser, ResidentQuery, ResidentRow, ScopeFilter, Secrets, SessionRecord, UserRecord,
    org_codes,
};
use crate::model::{
    CaseChange, CaseEvent, CaseQuery, CaseRecord, CategoryRecord, Effects, Job, JobOutcome,
    NewCase, NewJob, NewPhoto, NewWebhook, Notification, PauseChange, PhotoMeta, SweepChange,
    Webhook, WebhookAttempt, WebhookAttemptRecord,
};
use crate::search;
use crate::{Backend, Store, rows, sql};
use jiff::Timestamp;
use wangge_core::register::{Business, Dwelling, Household, Resident};
use worker::{Readers, Writer};

/// The schema, one embedded file per migration, applied in order. (A test
/// checks that every file of `migrations/sqlite` is listed, and that
/// PostgreSQL has as many.)
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_geography.sql"),
    include_str!("../../migrations/sqlite/0002_register_access.sql"),
    include_str!("../../migrations/sqlite/0003_cases.sql"),
    include_str!("../../migrations/sqlite/0004_photos_notifications_jobs.sql"),
    include_str!("../../migrations/sqlite/0005_merged_cases.sql"),
    include_str!("../../migrations/sqlite/0006_routing_rules.sql"),
    include_str!("../../migrations/sqlite/0007_api_keys.sql"),
    include_str!("../../migrations/sqlite/0008_open311_updates.sql"),
    include_str!("../../migrations/sqlite/0009_field_work.sql"),
    include_str!("../../migrations/sqlite/0010_search.sql"),
    include_str!("../../migrations/sqlite/0011_search_queue.sql"),
    include_str!("../../migrations/sqlite/0012_search_grid_index.sql"),
];

/// Run by the writer just before every commit: indexes the search
/// documents the transaction queued, in one statement (FTS5 writes a new
/// index segment per statement; see migration 0011).
pub const SEARCH_FLUSH: &str = "INSERT INTO search_fts (rowid, tokens) \
     SELECT d.id, d.tokens || ' zgrid' || coalesce(d.grid_id, 0) \
     FROM search_queue q JOIN search_docs d ON d.id = q.doc_id; \
     DELETE FROM search_queue;";

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

#[cfg(test)]
mod migration_tests {
    #[test]
    fn every_migration_file_is_applied_on_both_backends() {
        let count = |dir: &str| {
            std::fs::read_dir(format!("{}/migrations/{dir}", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .is_ok_and(|e| e.path().extension().is_some_and(|x| x == "sql"))
                })
                .count()
        };
        assert_eq!(count("sqlite"), super::MIGRATIONS.len());
        assert_eq!(count("postgres"), super::MIGRATIONS.len());
    }
}

pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: Readers,
}

/// Pragmas every connection gets. `synchronous=FULL` makes each commit
/// durable on power loss, which group commit keeps affordable. New
/// databases use 2 KB pages: an insert touches a page of every index it
/// updates, and each such page goes whole into the write-ahead log at every
/// commit, so halving the page halves that traffic (`bench/case-intake`:
/// about a tenth more cases per second than with 4 KB). Existing databases
/// keep the size they were created with. (A larger page cache than the
/// 2 MB default made the writer slower: SQLite walks the whole cache at
/// every commit.)
const PRAGMAS: &str = "PRAGMA page_size = 2048;
     PRAGMA journal_mode = WAL;
     PRAGMA synchronous = FULL;
     PRAGMA foreign_keys = ON;
     PRAGMA busy_timeout = 5000;";

fn open_connection(path: &Path, read_only: bool) -> StoreResult<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| StoreError::Config(format!("cannot open {}: {e}", path.display())))?;
    conn.execute_batch(PRAGMAS)?;
    conn.set_prepared_statement_cache_capacity(128);
    verify_pragmas(&conn)?;
    Ok(conn)
}

/// Refuses to run on a connection that would not keep data safe.
fn verify_pragmas(conn: &Connection) -> StoreResult<()> {
    let journal: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    let synchronous: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
    let foreign_keys: i64 = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    if !journal.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Config(format!(
            "SQLite journal_mode is {journal}, expected wal (is the file on a filesystem without shared memory?)"
        )));
    }
    if synchronous != 2 {
        return Err(StoreError::Config(format!(
            "SQLite synchronous is {synchronous}, expected 2 (FULL)"
        )));
    }
    if foreign_keys != 1 {
        return Err(StoreError::Config("SQLite foreign_keys is off".into()));
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file, migrates it, and starts
    /// the writer and `readers` reader threads.
    pub async fn open(path: &Path, readers: usize) -> StoreResult<Self> {
        Self::open_with_batch(path, readers, worker::MAX_BATCH).await
    }

    /// As [`SqliteStore::open`], with the most commands one commit may
    /// carry; 1 turns group commit off (for comparison in benchmarks).
    pub async fn open_with_batch(
        path: &Path,
        readers: usize,
        max_batch: usize,
    ) -> StoreResult<Self> {
        let path = path.to_path_buf();
        let p = path.clone();
        let (writer_conn, reader_conns) = tokio::task::spawn_blocking(move || {
            let mut conn = open_connection(&p, false)?;
            migrations().to_latest(&mut conn)?;
            let readers = (0..readers.max(1))
                .map(|_| open_connection(&p, true))
                .collect::<StoreResult<Vec<_>>>()?;
            Ok::<_, StoreError>((conn, readers))
        })
        .await
        .map_err(|e| StoreError::Config(format!("cannot open SQLite: {e}")))??;
        Ok(Self {
            path,
            writer: Writer::spawn(writer_conn, max_batch, SEARCH_FLUSH)?,
            readers: Readers::spawn(reader_conns)?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a command on the writer (group commit). For callers with their
    /// own statements, such as benchmarks and tests.
    pub async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.writer.write(f).await
    }

    /// Runs a bulk command in a transaction of its own, without a
    /// savepoint (see [`worker`]).
    pub async fn write_alone<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.writer.write_alone(f).await
    }

    pub async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        self.readers.read(f).await
    }

    async fn query_all<T: Send + 'static>(
        &self,
        sql: &'static str,
        param: Option<rusqlite::types::Value>,
        map: fn(&rusqlite::Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(sql)?;
            let mut rows = match param {
                Some(p) => stmt.query([p])?,
                None => stmt.query([])?,
            };
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(map(row)?);
            }
            Ok(out)
        })
        .await
    }

    async fn query_opt<T: Send + 'static>(
        &self,
        sql: &'static str,
        param: rusqlite::types::Value,
        map: fn(&rusqlite::Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        Ok(self
            .query_all(sql, Some(param), map)
            .await?
            .into_iter()
            .next())
    }
}

/// Finds or creates the org units above a grid code; returns the community id.
fn ensure_org(
    conn: &Connection,
    code: &GridCode,
    names: &crate::model::OrgNames,
) -> StoreResult<Id> {
    let (district, street, community) = org_codes(code);
    let id_of = |sql: &str, code: &str| -> StoreResult<Option<Id>> {
        Ok(conn
            .prepare_cached(sql)?
            .query_row([code], |r| r.get(0))
            .optional()?)
    };
    let missing = |level: &str, code: &str| {
        StoreError::NotFound(format!(
            "{level} {code} does not exist and no name was given for it"
        ))
    };
    if let Some(name) = &names.district {
        conn.prepare_cached(sql::INSERT_DISTRICT)?
            .execute(params![district.as_str(), name])?;
    }
    let district_id = id_of(sql::DISTRICT_ID, district.as_str())?
        .ok_or_else(|| missing("district", district.as_str()))?;
    if let Some(name) = &names.street {
        conn.prepare_cached(sql::INSERT_STREET)?.execute(params![
            district_id,
            street.as_str(),
            name
        ])?;
    }
    let street_id = id_of(sql::STREET_ID, street.as_str())?
        .ok_or_else(|| missing("street", street.as_str()))?;
    if let Some(name) = &names.community {
        conn.prepare_cached(sql::INSERT_COMMUNITY)?
            .execute(params![street_id, community.as_str(), name])?;
    }
    id_of(sql::COMMUNITY_ID, community.as_str())?
        .ok_or_else(|| missing("community", community.as_str()))
}

fn apply_changes(conn: &Connection, changes: &BoundaryChanges) -> StoreResult<()> {
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
                let community_id = ensure_org(conn, code, names)?;
                let grid_id: Id = conn.prepare_cached(sql::INSERT_GRID)?.query_row(
                    params![
                        community_id,
                        code.as_str(),
                        name,
                        external_code.as_ref().map(|c| c.as_str()),
                        recorded
                    ],
                    |r| r.get(0),
                )?;
                conn.prepare_cached(sql::INSERT_BOUNDARY)?
                    .execute(params![grid_id, 1i64, effective, geometry, recorded])?;
            }
            BoundaryChange::Redraw {
                grid_id,
                expected_version,
                geometry,
            } => {
                let closed = conn.prepare_cached(sql::CLOSE_BOUNDARY)?.execute(params![
                    effective,
                    grid_id,
                    expected_version
                ])?;
                if closed != 1 {
                    return Err(redraw_conflict(*grid_id, *expected_version));
                }
                conn.prepare_cached(sql::INSERT_BOUNDARY)?.execute(params![
                    grid_id,
                    expected_version + 1,
                    effective,
                    geometry,
                    recorded
                ])?;
            }
            BoundaryChange::Rename {
                grid_id,
                name,
                external_code,
            } => {
                conn.prepare_cached(sql::RENAME_GRID)?.execute(params![
                    name,
                    external_code.as_ref().map(|c| c.as_str()),
                    grid_id
                ])?;
            }
        }
    }
    for (building_id, code) in &changes.reassign_buildings {
        let grid_id: Id = conn
            .prepare_cached(sql::GRID_ID)?
            .query_row([code.as_str()], |r| r.get(0))
            .optional()?
            .ok_or_else(|| StoreError::NotFound(format!("grid {code}")))?;
        for statement in [
            sql::REASSIGN_BUILDING,
            sql::REASSIGN_HOUSEHOLDS,
            sql::REASSIGN_RESIDENTS,
        ] {
            conn.prepare_cached(statement)?
                .execute(params![grid_id, building_id])?;
        }
        for statement in [search::REGRID_RESIDENTS, search::REGRID_HOUSEHOLDS] {
            conn.prepare_cached(statement)?.execute([building_id])?;
        }
    }
    conn.prepare_cached(sql::BUMP_BOUNDARIES_REVISION)?
        .execute([])?;
    Ok(())
}

pub(crate) fn redraw_conflict(grid_id: Id, expected_version: i64) -> StoreError {
    StoreError::Conflict(format!(
        "grid {grid_id}: boundary version {expected_version} is no longer current, \
         or the new boundary would not start after it"
    ))
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn health(&self) -> StoreResult<()> {
        self.read(|conn| {
            conn.query_row(sql::HEALTH, [], |_| Ok(()))?;
            Ok(())
        })
        .await
    }

    async fn list_communities(&self) -> StoreResult<Vec<CommunitySummary>> {
        self.query_all(sql::LIST_COMMUNITIES, None, |r| rows::community_summary(r))
            .await
    }

    async fn list_grids(&self, community: Option<&CommunityCode>) -> StoreResult<Vec<GridSummary>> {
        match community {
            Some(c) => {
                self.query_all(
                    sql::LIST_GRIDS_OF_COMMUNITY,
                    Some(c.to_string().into()),
                    |r| rows::grid_summary(r),
                )
                .await
            }
            None => {
                self.query_all(sql::LIST_GRIDS, None, |r| rows::grid_summary(r))
                    .await
            }
        }
    }

    async fn grid(&self, id: Id) -> StoreResult<Option<GridSummary>> {
        self.query_opt(sql::GRID_BY_ID, id.into(), |r| rows::grid_summary(r))
            .await
    }

    async fn grid_by_code(&self, code: &GridCode) -> StoreResult<Option<GridSummary>> {
        self.query_opt(sql::GRID_BY_CODE, code.to_string().into(), |r| {
            rows::grid_summary(r)
        })
        .await
    }

    async fn boundary_history(&self, grid_id: Id) -> StoreResult<Vec<BoundaryVersion>> {
        self.query_all(sql::BOUNDARY_HISTORY, Some(grid_id.into()), |r| {
            rows::boundary_version(r)
        })
        .await
    }

    async fn all_boundaries(&self) -> StoreResult<Vec<BoundaryRow>> {
        self.query_all(sql::ALL_BOUNDARIES, None, |r| rows::boundary_row(r))
            .await
    }

    async fn current_boundaries_of_community(
        &self,
        community: &CommunityCode,
    ) -> StoreResult<Vec<BoundaryRow>> {
        self.query_all(
            sql::CURRENT_BOUNDARIES_OF_COMMUNITY,
            Some(community.to_string().into()),
            |r| rows::boundary_row(r),
        )
        .await
    }

    async fn boundaries_revision(&self) -> StoreResult<i64> {
        self.read(|conn| Ok(conn.query_row(sql::BOUNDARIES_REVISION, [], |r| r.get(0))?))
            .await
    }

    async fn apply_boundary_changes(&self, changes: BoundaryChanges) -> StoreResult<()> {
        self.write(move |conn| apply_changes(conn, &changes)).await
    }

    async fn insert_buildings(&self, buildings: Vec<NewBuilding>) -> StoreResult<Vec<Id>> {
        self.write(move |conn| {
            buildings
                .iter()
                .map(|b| register::insert_building_row(conn, b))
                .collect()
        })
        .await
    }

    async fn buildings_of_grid(&self, grid_id: Id) -> StoreResult<Vec<Building>> {
        self.query_all(sql::BUILDINGS_OF_GRID, Some(grid_id.into()), |r| {
            rows::building(r)
        })
        .await
    }

    async fn all_buildings(&self) -> StoreResult<Vec<Building>> {
        self.query_all(sql::ALL_BUILDINGS, None, |r| rows::building(r))
            .await
    }

    async fn building(&self, id: Id) -> StoreResult<Option<Building>> {
        self.query_opt(sql::BUILDING_BY_ID, id.into(), |r| rows::building(r))
            .await
    }

    async fn units_of_building(&self, building_id: Id) -> StoreResult<Vec<Unit>> {
        self.query_all(sql::UNITS_OF_BUILDING, Some(building_id.into()), |r| {
            rows::unit(r)
        })
        .await
    }

    async fn buildings_in_scope(
        &self,
        scope: &ScopeFilter,
        grid_id: Id,
    ) -> StoreResult<Vec<Building>> {
        let scope = scope.clone();
        self.read(move |c| register::buildings_in_scope(c, &scope, grid_id))
            .await
    }

    async fn grids_in_units(
        &self,
        grids: &[Id],
        communities: &[Id],
        streets: &[Id],
    ) -> StoreResult<Vec<Id>> {
        let (g, c, s) = (grids.to_vec(), communities.to_vec(), streets.to_vec());
        self.read(move |conn| register::grids_in_units(conn, &g, &c, &s))
            .await
    }

    async fn insert_dwellings(&self, dwellings: Vec<NewDwelling>) -> StoreResult<Vec<Id>> {
        self.write(move |c| register::insert_dwellings(c, &dwellings))
            .await
    }

    async fn dwellings_of_unit(&self, unit_id: Id) -> StoreResult<Vec<Dwelling>> {
        self.read(move |c| register::dwellings_of_unit(c, unit_id))
            .await
    }

    async fn dwelling_grid(&self, dwelling_id: Id) -> StoreResult<Option<Id>> {
        self.read(move |c| {
            Ok(c.prepare_cached(sql::DWELLING_GRID)?
                .query_row([dwelling_id], |r| r.get(0))
                .optional()?)
        })
        .await
    }

    async fn insert_household(&self, row: HouseholdRow, audit: AuditEntry) -> StoreResult<Id> {
        let doc = search::household_doc(&row);
        self.write(move |c| register::insert_household(c, &row, &doc, &audit))
            .await
    }

    async fn households(
        &self,
        scope: &ScopeFilter,
        query: HouseholdQuery,
    ) -> StoreResult<Vec<Household>> {
        let scope = scope.clone();
        self.read(move |c| register::households(c, &scope, query))
            .await
    }

    async fn household(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Household>> {
        let scope = scope.clone();
        self.read(move |c| register::household(c, &scope, id)).await
    }

    async fn insert_households_bulk(
        &self,
        households: Vec<(BulkHousehold, Vec<ResidentRow>)>,
        audit: AuditEntry,
    ) -> StoreResult<usize> {
        let docs = search::household_docs(&households);
        self.write_alone(move |c| register::insert_households_bulk(c, &households, &docs, &audit))
            .await
    }

    async fn insert_businesses_bulk(
        &self,
        businesses: Vec<BusinessRow>,
        audit: AuditEntry,
    ) -> StoreResult<usize> {
        let docs: Vec<_> = businesses.iter().map(search::business_doc).collect();
        self.write_alone(move |c| register::insert_businesses_bulk(c, &businesses, &docs, &audit))
            .await
    }

    async fn update_household(
        &self,
        scope: &ScopeFilter,
        id: Id,
        address: String,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        let scope = scope.clone();
        let tokens = wangge_search::document(&[], &[&address]);
        self.write(move |c| register::update_household(c, &scope, id, &address, &tokens, &audit))
            .await
    }

    async fn create_buildings(
        &self,
        buildings: Vec<(NewBuilding, Vec<NewDoor>)>,
        audit: AuditEntry,
    ) -> StoreResult<Vec<Id>> {
        self.write_alone(move |c| register::create_buildings(c, &buildings, &audit))
            .await
    }

    async fn update_building(
        &self,
        scope: &ScopeFilter,
        id: Id,
        grid_id: Id,
        change: crate::model::BuildingChange,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        let scope = scope.clone();
        self.write(move |c| register::update_building(c, &scope, id, grid_id, &change, &audit))
            .await
    }

    async fn delete_resident(
        &self,
        scope: &ScopeFilter,
        id: Id,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        let scope = scope.clone();
        self.write(move |c| register::delete_resident(c, &scope, id, &audit))
            .await
    }

    async fn insert_resident(&self, row: ResidentRow, audit: AuditEntry) -> StoreResult<Id> {
        let doc = search::resident_doc(&row);
        self.write(move |c| register::insert_resident(c, &row, &doc, &audit))
            .await
    }

    async fn update_resident(
        &self,
        scope: &ScopeFilter,
        id: Id,
        version: i64,
        row: ResidentRow,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        let scope = scope.clone();
        let doc = search::resident_doc(&row);
        self.write(move |c| register::update_resident(c, &scope, id, version, &row, &doc, &audit))
            .await
    }

    async fn residents(
        &self,
        scope: &ScopeFilter,
        query: ResidentQuery,
    ) -> StoreResult<Vec<Resident>> {
        let scope = scope.clone();
        self.read(move |c| register::residents(c, &scope, query))
            .await
    }

    async fn resident(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Resident>> {
        let scope = scope.clone();
        self.read(move |c| register::resident(c, &scope, id)).await
    }

    async fn resident_by_blind_index(
        &self,
        scope: &ScopeFilter,
        blind: &[u8],
    ) -> StoreResult<Option<Resident>> {
        let (scope, blind) = (scope.clone(), blind.to_vec());
        self.read(move |c| register::resident_by_blind(c, &scope, &blind))
            .await
    }

    async fn resident_secrets(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Secrets>> {
        let scope = scope.clone();
        self.read(move |c| register::resident_secrets(c, &scope, id))
            .await
    }

    async fn insert_business(&self, row: BusinessRow, audit: AuditEntry) -> StoreResult<Id> {
        let doc = search::business_doc(&row);
        self.write(move |c| register::insert_business(c, &row, &doc, &audit))
            .await
    }

    async fn update_business(
        &self,
        scope: &ScopeFilter,
        id: Id,
        version: i64,
        row: BusinessRow,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        let scope = scope.clone();
        let doc = search::business_doc(&row);
        self.write(move |c| register::update_business(c, &scope, id, version, &row, &doc, &audit))
            .await
    }

    async fn businesses(
        &self,
        scope: &ScopeFilter,
        query: BusinessQuery,
    ) -> StoreResult<Vec<Business>> {
        let scope = scope.clone();
        self.read(move |c| register::businesses(c, &scope, query))
            .await
    }

    async fn business(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Business>> {
        let scope = scope.clone();
        self.read(move |c| register::business(c, &scope, id)).await
    }

    async fn business_secrets(&self, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Secrets>> {
        let scope = scope.clone();
        self.read(move |c| register::business_secrets(c, &scope, id))
            .await
    }

    async fn insert_user(&self, user: NewUser, audit: AuditEntry) -> StoreResult<Id> {
        self.write(move |c| register::insert_user(c, &user, &audit))
            .await
    }

    async fn user_by_username(&self, username: &str) -> StoreResult<Option<UserRecord>> {
        let username = username.to_owned();
        self.read(move |c| register::user_by_username(c, &username))
            .await
    }

    async fn user(&self, id: Id) -> StoreResult<Option<UserRecord>> {
        self.read(move |c| register::user(c, id)).await
    }

    async fn users(&self) -> StoreResult<Vec<UserRecord>> {
        self.read(register::users).await
    }

    async fn set_password(
        &self,
        user_id: Id,
        hash: String,
        must_change: bool,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        self.write(move |c| register::set_password(c, user_id, &hash, must_change, &audit))
            .await
    }

    async fn set_disabled(
        &self,
        user_id: Id,
        disabled: bool,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        self.write(move |c| register::set_disabled(c, user_id, disabled, &audit))
            .await
    }

    async fn record_login_failure(
        &self,
        user_id: Id,
        max_failures: i64,
        lock_until: Timestamp,
        audit: AuditEntry,
    ) -> StoreResult<Option<Timestamp>> {
        self.write(move |c| {
            register::record_login_failure(c, user_id, max_failures, lock_until, &audit)
        })
        .await
    }

    async fn record_login_success(
        &self,
        session: NewSession,
        replaces: Option<Vec<u8>>,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        self.write(move |c| {
            register::record_login_success(c, &session, replaces.as_deref(), &audit)
        })
        .await
    }

    async fn session(&self, token_hash: &[u8]) -> StoreResult<Option<SessionRecord>> {
        let token_hash = token_hash.to_vec();
        self.read(move |c| register::session(c, &token_hash)).await
    }

    async fn touch_session(&self, token_hash: &[u8], at: Timestamp) -> StoreResult<()> {
        let token_hash = token_hash.to_vec();
        self.write(move |c| {
            c.prepare_cached(sql::TOUCH_SESSION)?
                .execute(params![time::to_micros(at), token_hash])?;
            Ok(())
        })
        .await
    }

    async fn delete_session(
        &self,
        token_hash: &[u8],
        audit: Option<AuditEntry>,
    ) -> StoreResult<()> {
        let token_hash = token_hash.to_vec();
        self.write(move |c| {
            c.prepare_cached(sql::DELETE_SESSION)?
                .execute([&token_hash])?;
            match &audit {
                Some(e) => register::append_audit(c, e),
                None => Ok(()),
            }
        })
        .await
    }

    async fn insert_department(&self, code: &str, name: &str) -> StoreResult<Id> {
        let (code, name) = (code.to_owned(), name.to_owned());
        self.write(move |c| register::insert_department(c, &code, &name))
            .await
    }

    async fn departments(&self) -> StoreResult<Vec<Department>> {
        self.read(register::departments).await
    }

    async fn append_audit(&self, entry: AuditEntry) -> StoreResult<()> {
        self.write(move |c| register::append_audit(c, &entry)).await
    }

    async fn audit_records(&self, after_seq: i64, limit: i64) -> StoreResult<Vec<AuditRecord>> {
        self.read(move |c| register::audit_records(c, after_seq, limit))
            .await
    }

    async fn seed_categories(
        &self,
        categories: Vec<(wangge_core::category::CategorySpec, Option<Id>)>,
    ) -> StoreResult<()> {
        self.write(move |c| cases::seed_categories(c, &categories))
            .await
    }

    async fn categories(&self) -> StoreResult<Vec<CategoryRecord>> {
        self.read(cases::categories).await
    }

    async fn seed_calendar_days(&self, days: Vec<(String, String, String)>) -> StoreResult<()> {
        self.write(move |c| cases::seed_calendar_days(c, &days))
            .await
    }

    async fn calendar_days(&self) -> StoreResult<Vec<(String, String, String)>> {
        self.read(cases::calendar_days).await
    }

    async fn set_calendar_day(
        &self,
        day: String,
        kind_and_name: Option<(String, String)>,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        self.write(move |c| cases::set_calendar_day(c, &day, kind_and_name.as_ref(), &audit))
            .await
    }

    async fn update_category(
        &self,
        category: CategoryRecord,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        self.write(move |c| cases::update_category(c, &category, &audit))
            .await
    }

    async fn routing_rules(&self) -> StoreResult<Vec<wangge_core::routing::RoutingRule>> {
        self.read(|c| register::all(c, sql::ROUTING_RULES, [], |r| rows::routing_rule(r)))
            .await
    }

    async fn insert_routing_rule(
        &self,
        rule: wangge_core::routing::RoutingRule,
        audit: AuditEntry,
    ) -> StoreResult<Id> {
        self.write(move |c| cases::insert_routing_rule(c, &rule, &audit))
            .await
    }

    async fn delete_routing_rule(&self, id: Id, audit: AuditEntry) -> StoreResult<()> {
        self.write(move |c| cases::delete_routing_rule(c, id, &audit))
            .await
    }

    async fn insert_case(
        &self,
        case: NewCase,
        event: CaseEvent,
        effects: Effects,
        audit: AuditEntry,
    ) -> StoreResult<Id> {
        let doc = search::case_doc(&case);
        self.write(move |c| cases::insert_case(c, &case, &doc, &event, &effects, &audit))
            .await
    }

    async fn case_by_idempotency(
        &self,
        reporter_id: Id,
        key: &str,
    ) -> StoreResult<Option<(Id, Option<Vec<u8>>)>> {
        let key = key.to_owned();
        self.read(move |c| cases::case_by_idempotency(c, reporter_id, &key))
            .await
    }

    async fn case(&self, id: Id) -> StoreResult<Option<CaseRecord>> {
        self.read(move |c| cases::case_by(c, sql::CASE_BY_ID, id.into()))
            .await
    }

    async fn open_cases_in_box(
        &self,
        category_id: Id,
        lat: (f64, f64),
        lon: (f64, f64),
    ) -> StoreResult<Vec<CaseRecord>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(sql::OPEN_CASES_IN_BOX)?;
            let mut rows = stmt.query(params![category_id, lat.0, lat.1, lon.0, lon.1])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(rows::case(r)?);
            }
            Ok(out)
        })
        .await
    }

    async fn case_count(&self) -> StoreResult<i64> {
        self.read(|c| Ok(c.query_row(sql::CASE_COUNT, [], |r| r.get(0))?))
            .await
    }

    async fn case_by_code(&self, public_code: &str) -> StoreResult<Option<CaseRecord>> {
        let code = public_code.to_owned();
        self.read(move |c| cases::case_by(c, sql::CASE_BY_CODE, code.into()))
            .await
    }

    async fn cases(&self, query: CaseQuery) -> StoreResult<Vec<CaseRecord>> {
        self.read(move |c| cases::cases(c, &query)).await
    }

    async fn public_updates(
        &self,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<(Id, String, Timestamp, String, String)>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(sql::PUBLIC_UPDATES)?;
            let rows = stmt.query_map(
                params![
                    wangge_core::time::to_micros(from),
                    wangge_core::time::to_micros(to),
                    true,
                    limit
                ],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )?;
            rows.map(|r| {
                let (id, code, at, state, note) = r?;
                Ok((id, code, wangge_core::time::from_micros(at), state, note))
            })
            .collect()
        })
        .await
    }

    async fn public_cases(
        &self,
        query: crate::model::PublicCaseQuery,
    ) -> StoreResult<Vec<CaseRecord>> {
        self.read(move |c| cases::public_cases(c, &query)).await
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
        self.write(move |c| {
            cases::update_case(
                c,
                id,
                version,
                &change,
                &event,
                pause.as_ref(),
                &effects,
                &audit,
            )
        })
        .await
    }

    async fn case_events(&self, id: Id) -> StoreResult<Vec<CaseEvent>> {
        self.read(move |c| cases::case_events(c, id)).await
    }

    async fn case_pauses(&self, id: Id) -> StoreResult<Vec<(Timestamp, Option<Timestamp>)>> {
        self.read(move |c| cases::case_pauses(c, id)).await
    }

    async fn sweepable_cases(&self) -> StoreResult<Vec<CaseRecord>> {
        self.read(|c| register::all(c, sql::SWEEPABLE_CASES, [], |r| rows::case(r)))
            .await
    }

    async fn raise_alert(
        &self,
        case_id: Id,
        key: String,
        at: Timestamp,
        effects: Effects,
        escalation: Option<SweepChange>,
    ) -> StoreResult<bool> {
        self.write(move |c| cases::raise_alert(c, case_id, &key, at, &effects, escalation.as_ref()))
            .await
    }

    async fn insert_photo(&self, photo: NewPhoto) -> StoreResult<Id> {
        self.write(move |c| work::insert_photo(c, &photo)).await
    }

    async fn photo_meta(&self, id: Id) -> StoreResult<Option<PhotoMeta>> {
        self.read(move |c| work::photo_meta(c, id)).await
    }

    async fn photo_bytes(&self, id: Id) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>> {
        self.read(move |c| work::photo_bytes(c, id)).await
    }

    async fn case_photos(&self, case_id: Id) -> StoreResult<Vec<PhotoMeta>> {
        self.read(move |c| work::case_photos(c, case_id)).await
    }

    async fn delete_orphan_photos(&self, before: Timestamp) -> StoreResult<u64> {
        self.write(move |c| {
            Ok(c.prepare_cached(sql::DELETE_ORPHAN_PHOTOS)?
                .execute([wangge_core::time::to_micros(before)])? as u64)
        })
        .await
    }

    async fn notifications(
        &self,
        user_id: Id,
        unread_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<Notification>> {
        self.read(move |c| work::notifications(c, user_id, unread_only, limit))
            .await
    }

    async fn unread_notifications(&self, user_id: Id) -> StoreResult<i64> {
        self.read(move |c| work::unread_notifications(c, user_id))
            .await
    }

    async fn mark_notifications_read(
        &self,
        user_id: Id,
        id: Option<Id>,
        at: Timestamp,
    ) -> StoreResult<u64> {
        self.write(move |c| work::mark_notifications_read(c, user_id, id, at))
            .await
    }

    async fn enqueue_jobs(&self, jobs: Vec<NewJob>) -> StoreResult<()> {
        self.write(move |c| work::enqueue_jobs(c, &jobs)).await
    }

    async fn claim_jobs(
        &self,
        kind: &str,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<Job>> {
        let (kind, worker) = (kind.to_owned(), worker.to_owned());
        self.write(move |c| work::claim_jobs(c, &kind, &worker, now, lease_until, limit))
            .await
    }

    async fn finish_job(
        &self,
        id: Id,
        worker: &str,
        outcome: JobOutcome,
        attempt: Option<WebhookAttempt>,
    ) -> StoreResult<()> {
        let worker = worker.to_owned();
        self.write(move |c| work::finish_job(c, id, &worker, &outcome, attempt.as_ref()))
            .await
    }

    async fn job_counts(&self) -> StoreResult<Vec<(String, String, i64)>> {
        self.read(work::job_counts).await
    }

    async fn insert_webhook(&self, hook: NewWebhook, audit: AuditEntry) -> StoreResult<Id> {
        self.write(move |c| work::insert_webhook(c, &hook, &audit))
            .await
    }

    async fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        self.read(work::webhooks).await
    }

    async fn set_webhook_active(&self, id: Id, active: bool, audit: AuditEntry) -> StoreResult<()> {
        self.write(move |c| work::set_webhook_active(c, id, active, &audit))
            .await
    }

    async fn webhook_attempts(
        &self,
        webhook_id: Id,
        limit: i64,
    ) -> StoreResult<Vec<WebhookAttemptRecord>> {
        self.read(move |c| work::webhook_attempts(c, webhook_id, limit))
            .await
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
        self.write(move |c| work::insert_api_key(c, &user, &name, &key_hash, &prefix, at, &audit))
            .await
    }

    async fn add_client_update(
        &self,
        api_key_id: Id,
        update_id: String,
        case_id: Id,
        event: CaseEvent,
        audit: AuditEntry,
    ) -> StoreResult<(Id, bool)> {
        self.write(move |c| {
            cases::add_client_update(c, api_key_id, &update_id, case_id, &event, &audit)
        })
        .await
    }

    async fn api_keys(&self) -> StoreResult<Vec<crate::model::ApiKey>> {
        self.read(work::api_keys).await
    }

    async fn api_key_by_hash(&self, key_hash: &[u8]) -> StoreResult<Option<crate::model::ApiKey>> {
        let key_hash = key_hash.to_vec();
        self.read(move |c| work::api_key_by_hash(c, &key_hash))
            .await
    }

    async fn revoke_api_key(
        &self,
        name: &str,
        at: Timestamp,
        audit: AuditEntry,
    ) -> StoreResult<()> {
        let name = name.to_owned();
        self.write(move |c| work::revoke_api_key(c, &name, at, &audit))
            .await
    }
}
