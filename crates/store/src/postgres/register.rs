//! PostgreSQL statements of the register, users, sessions and audit log.

use sqlx::postgres::{PgArguments, PgPool, PgRow};
use sqlx::query::Query;
use sqlx::{Postgres, Transaction};
use wangge_core::org::{Building, Id};
use wangge_core::register::{Business, Dwelling, Household, Resident};
use wangge_core::time;

use crate::audit::{self, AuditEntry, AuditRecord, GENESIS};
use crate::error::{StoreError, StoreResult};
use crate::model::{
    BulkHousehold, BusinessQuery, BusinessRow, Department, HouseholdQuery, HouseholdRow,
    NewDwelling, NewSession, NewUser, ResidentQuery, ResidentRow, ScopeFilter, Secrets,
    SessionRecord, UserRecord,
};
use crate::rows::{self, RowLike};
use crate::search::{self, SearchDoc};
use crate::sql;

// PostgreSQL's form of "grid id in the list bound as $n" is `= ANY($n)`,
// the list bound as a BIGINT array.

type Q = Query<'static, Postgres, PgArguments>;

async fn all<T>(pool: &PgPool, q: Q, map: fn(&PgRow) -> StoreResult<T>) -> StoreResult<Vec<T>> {
    q.fetch_all(pool).await?.iter().map(map).collect()
}

async fn first<T>(
    pool: &PgPool,
    q: Q,
    map: fn(&PgRow) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    q.fetch_optional(pool).await?.as_ref().map(map).transpose()
}

/// Serializes appenders: the chain needs the previous record's hash.
const AUDIT_LOCK: i64 = 0x7761_6e67_6765;

pub async fn append_audit(tx: &mut Transaction<'_, Postgres>, e: &AuditEntry) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK)
        .execute(&mut **tx)
        .await?;
    let last: Option<(i64, Vec<u8>)> = sqlx::query_as(sql::LAST_AUDIT)
        .fetch_optional(&mut **tx)
        .await?;
    let (seq, prev) = last.map_or((1, GENESIS.to_vec()), |(s, h)| (s + 1, h));
    let hash = audit::entry_hash(&prev, seq, e);
    sqlx::query(sql::INSERT_AUDIT)
        .bind(seq)
        .bind(time::to_micros(e.at))
        .bind(e.actor_id)
        .bind(&e.action)
        .bind(&e.record_kind)
        .bind(e.record_id)
        .bind(&e.detail)
        .bind(prev)
        .bind(hash.as_slice())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn audit_records(pool: &PgPool, after: i64, limit: i64) -> StoreResult<Vec<AuditRecord>> {
    all(
        pool,
        sqlx::query(sql::AUDIT_PAGE).bind(after).bind(limit),
        rows::audit_record,
    )
    .await
}

pub async fn grids_in_units(
    pool: &PgPool,
    grids: &[Id],
    communities: &[Id],
    streets: &[Id],
) -> StoreResult<Vec<Id>> {
    const SQL: &str = grids_in_units!("= ANY($1)", "= ANY($2)", "= ANY($3)");
    let q = sqlx::query(SQL)
        .bind(grids.to_vec())
        .bind(communities.to_vec())
        .bind(streets.to_vec());
    all(pool, q, |r| r.int(0)).await
}

pub async fn buildings_in_scope(
    pool: &PgPool,
    scope: &ScopeFilter,
    grid_id: Id,
) -> StoreResult<Vec<Building>> {
    const SQL: &str = buildings_in_scope!("= ANY($1)");
    all(
        pool,
        sqlx::query(SQL).bind(scope.grid_ids.clone()).bind(grid_id),
        rows::building,
    )
    .await
}

pub async fn insert_dwellings(pool: &PgPool, dwellings: &[NewDwelling]) -> StoreResult<Vec<Id>> {
    let mut tx = pool.begin().await?;
    let mut ids = Vec::with_capacity(dwellings.len());
    for d in dwellings {
        ids.push(
            sqlx::query_scalar(sql::INSERT_DWELLING)
                .bind(d.unit_id)
                .bind(d.floor)
                .bind(&d.number)
                .bind(&d.dwelling_use)
                .bind(d.area_m2)
                .fetch_one(&mut *tx)
                .await?,
        );
    }
    tx.commit().await?;
    Ok(ids)
}

pub async fn dwellings_of_unit(pool: &PgPool, unit_id: Id) -> StoreResult<Vec<Dwelling>> {
    all(
        pool,
        sqlx::query(sql::DWELLINGS_OF_UNIT).bind(unit_id),
        rows::dwelling,
    )
    .await
}

/// Writes a record's search document (inside the record's transaction).
pub async fn put_doc(
    tx: &mut Transaction<'_, Postgres>,
    doc: &SearchDoc,
    record_id: Id,
) -> StoreResult<()> {
    sqlx::query(search::UPSERT)
        .bind(doc.kind)
        .bind(record_id)
        .bind(doc.grid_id)
        .bind(doc.born.as_deref())
        .bind(&doc.title)
        .bind(&doc.detail)
        .bind(&doc.tokens)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn insert_household(pool: &PgPool, h: HouseholdRow, e: AuditEntry) -> StoreResult<Id> {
    let doc = search::household_doc(&h);
    let mut tx = pool.begin().await?;
    let id: Id = sqlx::query_scalar(sql::INSERT_HOUSEHOLD)
        .bind(h.grid_id)
        .bind(h.dwelling_id)
        .bind(&h.address)
        .bind(time::to_micros(e.at))
        .fetch_one(&mut *tx)
        .await?;
    put_doc(&mut tx, &doc, id).await?;
    append_audit(&mut tx, &e.record(id)).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn households(
    pool: &PgPool,
    scope: &ScopeFilter,
    q: HouseholdQuery,
) -> StoreResult<Vec<Household>> {
    const SQL: &str = households_in_scope!("= ANY($1)");
    let query = sqlx::query(SQL)
        .bind(scope.grid_ids.clone())
        .bind(q.grid_id)
        .bind(q.unit_id)
        .bind(q.limit)
        .bind(q.offset);
    all(pool, query, rows::household).await
}

pub async fn household(
    pool: &PgPool,
    scope: &ScopeFilter,
    id: Id,
) -> StoreResult<Option<Household>> {
    const SQL: &str = household_in_scope!("= ANY($1)");
    first(
        pool,
        sqlx::query(SQL).bind(scope.grid_ids.clone()).bind(id),
        rows::household,
    )
    .await
}

fn bind_resident(q: Q, r: ResidentRow) -> Q {
    q.bind(r.household_id)
        .bind(r.grid_id)
        .bind(r.name)
        .bind(r.gender)
        .bind(r.birth_date)
        .bind(r.id_cipher)
        .bind(r.id_blind)
        .bind(r.id_masked)
        .bind(r.phone_cipher)
        .bind(r.phone_masked)
        .bind(r.ethnicity)
        .bind(r.residence_type)
        .bind(r.relation)
        .bind(r.political_status)
        .bind(r.tags)
}

pub async fn insert_resident(pool: &PgPool, r: ResidentRow, e: AuditEntry) -> StoreResult<Id> {
    let doc = search::resident_doc(&r);
    let mut tx = pool.begin().await?;
    let row = bind_resident(sqlx::query(sql::INSERT_RESIDENT), r)
        .bind(time::to_micros(e.at))
        .fetch_one(&mut *tx)
        .await?;
    let id = row.int(0)?;
    put_doc(&mut tx, &doc, id).await?;
    append_audit(&mut tx, &e.record(id)).await?;
    tx.commit().await?;
    Ok(id)
}

/// Tells "absent or out of scope" (NotFound) from "changed meanwhile" (Conflict).
async fn missed_update(
    pool: &PgPool,
    exists_sql: &'static str,
    id: Id,
    version: i64,
    visible: bool,
) -> StoreError {
    let current: Option<i64> = sqlx::query_scalar(exists_sql)
        .bind(id)
        .fetch_optional(pool)
        .await
        .unwrap_or(None);
    match current {
        Some(v) if visible && v != version => StoreError::Conflict(format!(
            "record {id} was changed by someone else (version {v}, not {version})"
        )),
        _ => StoreError::NotFound(format!("record {id}")),
    }
}

pub async fn update_resident(
    pool: &PgPool,
    scope: &ScopeFilter,
    id: Id,
    version: i64,
    r: ResidentRow,
    e: AuditEntry,
) -> StoreResult<()> {
    const SQL: &str = update_resident_in_scope!("= ANY($18)");
    let doc = search::resident_doc(&r);
    let mut tx = pool.begin().await?;
    let changed = bind_resident(sqlx::query(SQL), r)
        .bind(time::to_micros(e.at))
        .bind(id)
        .bind(scope.grid_ids.clone())
        .bind(scope.birth_cutoff().to_owned())
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed != 1 {
        drop(tx);
        let visible = resident(pool, scope, id).await?.is_some();
        return Err(missed_update(pool, sql::RESIDENT_EXISTS, id, version, visible).await);
    }
    put_doc(&mut tx, &doc, id).await?;
    append_audit(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn residents(
    pool: &PgPool,
    scope: &ScopeFilter,
    q: ResidentQuery,
) -> StoreResult<Vec<Resident>> {
    const SQL: &str = residents_in_scope!("= ANY($1)");
    let query = sqlx::query(SQL)
        .bind(scope.grid_ids.clone())
        .bind(scope.birth_cutoff().to_owned())
        .bind(q.household_id)
        .bind(q.grid_id)
        .bind(q.limit)
        .bind(q.offset);
    all(pool, query, rows::resident).await
}

pub async fn resident(pool: &PgPool, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Resident>> {
    const SQL: &str = resident_in_scope!("= ANY($1)");
    let q = sqlx::query(SQL)
        .bind(scope.grid_ids.clone())
        .bind(scope.birth_cutoff().to_owned())
        .bind(id);
    first(pool, q, rows::resident).await
}

pub async fn resident_by_blind(
    pool: &PgPool,
    scope: &ScopeFilter,
    blind: &[u8],
) -> StoreResult<Option<Resident>> {
    const SQL: &str = resident_by_blind_in_scope!("= ANY($1)");
    let q = sqlx::query(SQL)
        .bind(scope.grid_ids.clone())
        .bind(scope.birth_cutoff().to_owned())
        .bind(blind.to_vec());
    first(pool, q, rows::resident).await
}

pub async fn resident_secrets(
    pool: &PgPool,
    scope: &ScopeFilter,
    id: Id,
) -> StoreResult<Option<Secrets>> {
    const SQL: &str = resident_secrets_in_scope!("= ANY($1)");
    let q = sqlx::query(SQL)
        .bind(scope.grid_ids.clone())
        .bind(scope.birth_cutoff().to_owned())
        .bind(id);
    first(pool, q, rows::secrets).await
}

fn bind_business(q: Q, b: BusinessRow) -> Q {
    q.bind(b.grid_id)
        .bind(b.dwelling_id)
        .bind(b.address)
        .bind(b.name)
        .bind(b.credit_code)
        .bind(b.legal_rep)
        .bind(b.phone_cipher)
        .bind(b.phone_masked)
        .bind(b.opening_date)
        .bind(b.status)
        .bind(b.app_status)
        .bind(b.app_reason)
        .bind(b.app_note)
}

pub async fn insert_business(pool: &PgPool, b: BusinessRow, e: AuditEntry) -> StoreResult<Id> {
    let doc = search::business_doc(&b);
    let mut tx = pool.begin().await?;
    let row = bind_business(sqlx::query(sql::INSERT_BUSINESS), b)
        .bind(time::to_micros(e.at))
        .fetch_one(&mut *tx)
        .await?;
    let id = row.int(0)?;
    put_doc(&mut tx, &doc, id).await?;
    append_audit(&mut tx, &e.record(id)).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_business(
    pool: &PgPool,
    scope: &ScopeFilter,
    id: Id,
    version: i64,
    b: BusinessRow,
    e: AuditEntry,
) -> StoreResult<()> {
    const SQL: &str = update_business_in_scope!("= ANY($16)");
    let doc = search::business_doc(&b);
    let mut tx = pool.begin().await?;
    let changed = bind_business(sqlx::query(SQL), b)
        .bind(time::to_micros(e.at))
        .bind(id)
        .bind(scope.grid_ids.clone())
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed != 1 {
        drop(tx);
        let visible = business(pool, scope, id).await?.is_some();
        return Err(missed_update(pool, sql::BUSINESS_EXISTS, id, version, visible).await);
    }
    put_doc(&mut tx, &doc, id).await?;
    append_audit(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn businesses(
    pool: &PgPool,
    scope: &ScopeFilter,
    q: BusinessQuery,
) -> StoreResult<Vec<Business>> {
    const SQL: &str = businesses_in_scope!("= ANY($1)");
    let query = sqlx::query(SQL)
        .bind(scope.grid_ids.clone())
        .bind(q.grid_id)
        .bind(q.limit)
        .bind(q.offset);
    all(pool, query, rows::business).await
}

pub async fn business(pool: &PgPool, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Business>> {
    const SQL: &str = business_in_scope!("= ANY($1)");
    first(
        pool,
        sqlx::query(SQL).bind(scope.grid_ids.clone()).bind(id),
        rows::business,
    )
    .await
}

pub async fn business_secrets(
    pool: &PgPool,
    scope: &ScopeFilter,
    id: Id,
) -> StoreResult<Option<Secrets>> {
    const SQL: &str = business_secrets_in_scope!("= ANY($1)");
    first(
        pool,
        sqlx::query(SQL).bind(scope.grid_ids.clone()).bind(id),
        rows::secrets,
    )
    .await
}

pub async fn insert_user(pool: &PgPool, u: NewUser, e: AuditEntry) -> StoreResult<Id> {
    let mut tx = pool.begin().await?;
    let id = insert_user_in(&mut tx, &u, &e).await?;
    tx.commit().await?;
    Ok(id)
}

/// Inserts a user with its scopes and audit record, in `tx`.
pub async fn insert_user_in(
    tx: &mut Transaction<'_, Postgres>,
    u: &NewUser,
    e: &AuditEntry,
) -> StoreResult<Id> {
    let id: Id = sqlx::query_scalar(sql::INSERT_USER)
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(&u.role)
        .bind(&u.password_hash)
        .bind(time::to_micros(e.at))
        .fetch_one(&mut **tx)
        .await?;
    for (kind, ref_id) in &u.scopes {
        sqlx::query(sql::INSERT_USER_SCOPE)
            .bind(id)
            .bind(kind.as_str())
            .bind(ref_id)
            .execute(&mut **tx)
            .await?;
    }
    append_audit(tx, &e.clone().record(id)).await?;
    Ok(id)
}

async fn with_scopes(pool: &PgPool, user: Option<UserRecord>) -> StoreResult<Option<UserRecord>> {
    let Some(mut user) = user else {
        return Ok(None);
    };
    user.scopes = all(pool, sqlx::query(sql::USER_SCOPES).bind(user.id), |r| {
        rows::scope(r, 0)
    })
    .await?;
    Ok(Some(user))
}

pub async fn user_by_username(pool: &PgPool, username: &str) -> StoreResult<Option<UserRecord>> {
    let user = first(
        pool,
        sqlx::query(sql::USER_COLUMNS_BY_NAME).bind(username.to_owned()),
        rows::user,
    )
    .await?;
    with_scopes(pool, user).await
}

pub async fn user(pool: &PgPool, id: Id) -> StoreResult<Option<UserRecord>> {
    let user = first(
        pool,
        sqlx::query(sql::USER_COLUMNS_BY_ID).bind(id),
        rows::user,
    )
    .await?;
    with_scopes(pool, user).await
}

pub async fn users(pool: &PgPool) -> StoreResult<Vec<UserRecord>> {
    let mut users = all(pool, sqlx::query(sql::ALL_USERS), rows::user).await?;
    let scopes = all(pool, sqlx::query(sql::ALL_USER_SCOPES), |r| {
        Ok((r.int(0)?, rows::scope(r, 1)?))
    })
    .await?;
    for u in &mut users {
        u.scopes = scopes
            .iter()
            .filter(|(id, _)| *id == u.id)
            .map(|(_, s)| *s)
            .collect();
    }
    Ok(users)
}

pub async fn set_password(
    pool: &PgPool,
    user_id: Id,
    hash: String,
    must_change: bool,
    e: AuditEntry,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let n = sqlx::query(sql::SET_PASSWORD)
        .bind(hash)
        .bind(must_change)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(StoreError::NotFound(format!("user {user_id}")));
    }
    sqlx::query(sql::DELETE_USER_SESSIONS)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    append_audit(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_disabled(
    pool: &PgPool,
    user_id: Id,
    disabled: bool,
    e: AuditEntry,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let n = sqlx::query(sql::SET_DISABLED)
        .bind(disabled)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(StoreError::NotFound(format!("user {user_id}")));
    }
    if disabled {
        sqlx::query(sql::DELETE_USER_SESSIONS)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
    }
    append_audit(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn record_login_failure(
    pool: &PgPool,
    user_id: Id,
    max: i64,
    lock_until: jiff::Timestamp,
    e: AuditEntry,
) -> StoreResult<Option<jiff::Timestamp>> {
    let mut tx = pool.begin().await?;
    let locked: Option<i64> = sqlx::query_scalar(sql::LOGIN_FAILED)
        .bind(max)
        .bind(time::to_micros(lock_until))
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    append_audit(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(locked
        .map(time::from_micros)
        .filter(|t| *t == time::truncate(lock_until)))
}

pub async fn record_login_success(
    pool: &PgPool,
    s: NewSession,
    replaces: Option<Vec<u8>>,
    e: AuditEntry,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(sql::LOGIN_SUCCEEDED)
        .bind(s.user_id)
        .execute(&mut *tx)
        .await?;
    if let Some(old) = replaces {
        sqlx::query(sql::DELETE_SESSION)
            .bind(old)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(sql::INSERT_SESSION)
        .bind(s.token_hash)
        .bind(s.user_id)
        .bind(s.csrf_token)
        .bind(time::to_micros(s.at))
        .execute(&mut *tx)
        .await?;
    append_audit(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn session(pool: &PgPool, token_hash: &[u8]) -> StoreResult<Option<SessionRecord>> {
    let row: Option<(Id, String, i64, i64)> = sqlx::query_as(sql::SESSION)
        .bind(token_hash.to_vec())
        .fetch_optional(pool)
        .await?;
    let Some((user_id, csrf_token, created, seen)) = row else {
        return Ok(None);
    };
    Ok(user(pool, user_id).await?.map(|user| SessionRecord {
        user,
        csrf_token,
        created_at: time::from_micros(created),
        last_seen: time::from_micros(seen),
    }))
}

pub async fn delete_session(
    pool: &PgPool,
    token_hash: &[u8],
    e: Option<AuditEntry>,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(sql::DELETE_SESSION)
        .bind(token_hash.to_vec())
        .execute(&mut *tx)
        .await?;
    if let Some(e) = e {
        append_audit(&mut tx, &e).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn insert_department(pool: &PgPool, code: &str, name: &str) -> StoreResult<Id> {
    sqlx::query(sql::INSERT_DEPARTMENT)
        .bind(code.to_owned())
        .bind(name.to_owned())
        .execute(pool)
        .await?;
    Ok(sqlx::query_scalar(sql::DEPARTMENT_ID)
        .bind(code.to_owned())
        .fetch_one(pool)
        .await?)
}

pub async fn departments(pool: &PgPool) -> StoreResult<Vec<Department>> {
    all(pool, sqlx::query(sql::ALL_DEPARTMENTS), |r| {
        Ok(Department {
            id: r.int(0)?,
            code: r.text(1)?,
            name: r.text(2)?,
        })
    })
    .await
}

pub async fn append_audit_alone(pool: &PgPool, e: AuditEntry) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    append_audit(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn insert_households_bulk(
    pool: &PgPool,
    households: Vec<(BulkHousehold, Vec<ResidentRow>)>,
    e: AuditEntry,
) -> StoreResult<usize> {
    let at = time::to_micros(e.at);
    let docs = search::household_docs(&households);
    let mut tx = pool.begin().await?;
    let mut count = 0;
    for ((h, members), (doc, member_docs)) in households.into_iter().zip(docs) {
        let id: Id = match h {
            BulkHousehold::New(h) => {
                sqlx::query_scalar(sql::INSERT_HOUSEHOLD)
                    .bind(h.grid_id)
                    .bind(h.dwelling_id)
                    .bind(h.address)
                    .bind(at)
                    .fetch_one(&mut *tx)
                    .await?
            }
            BulkHousehold::Existing(id) => id,
        };
        if let Some(doc) = doc {
            put_doc(&mut tx, &doc, id).await?;
        }
        for (mut r, doc) in members.into_iter().zip(member_docs) {
            r.household_id = id;
            let row = bind_resident(sqlx::query(sql::INSERT_RESIDENT), r)
                .bind(at)
                .fetch_one(&mut *tx)
                .await?;
            put_doc(&mut tx, &doc, row.int(0)?).await?;
            count += 1;
        }
    }
    append_audit(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(count)
}

pub async fn insert_businesses_bulk(
    pool: &PgPool,
    rows: Vec<BusinessRow>,
    e: AuditEntry,
) -> StoreResult<usize> {
    let at = time::to_micros(e.at);
    let n = rows.len();
    let mut tx = pool.begin().await?;
    for b in rows {
        let doc = search::business_doc(&b);
        let row = bind_business(sqlx::query(sql::INSERT_BUSINESS), b)
            .bind(at)
            .fetch_one(&mut *tx)
            .await?;
        put_doc(&mut tx, &doc, row.int(0)?).await?;
    }
    append_audit(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(n)
}

pub async fn update_household(
    pool: &PgPool,
    scope: &ScopeFilter,
    id: Id,
    address: String,
    e: AuditEntry,
) -> StoreResult<()> {
    const SQL: &str = update_household_in_scope!("= ANY($4)");
    let tokens = wangge_search::document(&[], &[&address]);
    let mut tx = pool.begin().await?;
    let n = sqlx::query(SQL)
        .bind(&address)
        .bind(time::to_micros(e.at))
        .bind(id)
        .bind(scope.grid_ids.clone())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(StoreError::NotFound(format!("household {id}")));
    }
    sqlx::query(search::RETITLE)
        .bind(&address)
        .bind(tokens)
        .bind("household")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    append_audit(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(())
}

/// Inserts a building and its units inside a transaction.
pub async fn insert_building_row(
    tx: &mut Transaction<'_, Postgres>,
    b: &crate::model::NewBuilding,
) -> StoreResult<Id> {
    let id: Id = sqlx::query_scalar(sql::INSERT_BUILDING)
        .bind(b.community_id)
        .bind(b.grid_id)
        .bind(&b.number)
        .bind(&b.name)
        .bind(&b.address)
        .bind(b.location.lon)
        .bind(b.location.lat)
        .bind(b.floors)
        .bind(b.building_use.as_str())
        .fetch_one(&mut **tx)
        .await?;
    for u in &b.units {
        sqlx::query(sql::INSERT_UNIT)
            .bind(id)
            .bind(u.number)
            .bind(u.floors)
            .bind(u.dwellings_per_floor)
            .execute(&mut **tx)
            .await?;
    }
    Ok(id)
}

pub async fn create_buildings(
    pool: &PgPool,
    buildings: Vec<(crate::model::NewBuilding, Vec<crate::model::NewDoor>)>,
    e: AuditEntry,
) -> StoreResult<Vec<Id>> {
    let mut tx = pool.begin().await?;
    let mut ids = Vec::with_capacity(buildings.len());
    for (b, doors) in &buildings {
        let id = insert_building_row(&mut tx, b).await?;
        let units: Vec<(Id, i64)> =
            sqlx::query_as("SELECT id, number FROM units WHERE building_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
        // Every dwelling of the building in one statement.
        let mut unit_ids = Vec::with_capacity(doors.len());
        for d in doors {
            let unit = units
                .iter()
                .find(|(_, n)| *n == d.unit)
                .ok_or_else(|| StoreError::NotFound(format!("unit {} of building {id}", d.unit)))?;
            unit_ids.push(unit.0);
        }
        sqlx::query(
            "INSERT INTO dwellings (unit_id, floor, number, dwelling_use) \
             SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::TEXT[], $4::TEXT[])",
        )
        .bind(&unit_ids)
        .bind(doors.iter().map(|d| d.floor).collect::<Vec<_>>())
        .bind(doors.iter().map(|d| d.number.clone()).collect::<Vec<_>>())
        .bind(
            doors
                .iter()
                .map(|d| d.dwelling_use.clone())
                .collect::<Vec<_>>(),
        )
        .execute(&mut *tx)
        .await?;
        ids.push(id);
    }
    let e = match ids.as_slice() {
        [one] => e.record(*one),
        _ => e,
    };
    append_audit(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(ids)
}

pub async fn update_building(
    pool: &PgPool,
    scope: &ScopeFilter,
    id: Id,
    grid_id: Id,
    c: crate::model::BuildingChange,
    e: AuditEntry,
) -> StoreResult<()> {
    const SQL: &str = update_building_in_scope!("= ANY($7)");
    let mut tx = pool.begin().await?;
    let n = sqlx::query(SQL)
        .bind(c.name)
        .bind(c.address)
        .bind(c.floors)
        .bind(c.building_use)
        .bind(id)
        .bind(grid_id)
        .bind(scope.grid_ids.clone())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(StoreError::NotFound(format!("building {id}")));
    }
    append_audit(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_resident(
    pool: &PgPool,
    scope: &ScopeFilter,
    id: Id,
    e: AuditEntry,
) -> StoreResult<()> {
    const SQL: &str = delete_resident_in_scope!("= ANY($2)");
    let mut tx = pool.begin().await?;
    let n = sqlx::query(SQL)
        .bind(id)
        .bind(scope.grid_ids.clone())
        .bind(scope.birth_cutoff().to_owned())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(StoreError::NotFound(format!("resident {id}")));
    }
    sqlx::query(search::DELETE)
        .bind("resident")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    append_audit(&mut tx, &e).await?;
    tx.commit().await?;
    Ok(())
}
