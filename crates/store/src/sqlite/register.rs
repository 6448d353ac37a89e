//! SQLite statements of the register, users, sessions and audit log, as
//! plain functions on a connection; `mod.rs` runs them on the reader pool or
//! the group-commit writer.

use rusqlite::{Connection, OptionalExtension, ToSql, params};
use wangge_core::org::{Building, Id, Unit};
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

// SQLite's form of "grid id in the list bound as $n" is
// `IN (SELECT value FROM json_each($n))`, the list bound as a JSON array.

pub(crate) fn all<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: fn(&rusqlite::Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}

fn first<T>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    map: fn(&rusqlite::Row<'_>) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    rows.next()?.map(map).transpose()
}

fn json_ids(ids: &[Id]) -> String {
    ScopeFilter::grids(ids.to_vec()).grid_ids_json()
}

pub fn append_audit(conn: &Connection, e: &AuditEntry) -> StoreResult<()> {
    let last: Option<(i64, Vec<u8>)> = conn
        .prepare_cached(sql::LAST_AUDIT)?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, prev) = last.map_or((1, GENESIS.to_vec()), |(s, h)| (s + 1, h));
    let hash = audit::entry_hash(&prev, seq, e);
    conn.prepare_cached(sql::INSERT_AUDIT)?.execute(params![
        seq,
        time::to_micros(e.at),
        e.actor_id,
        e.action,
        e.record_kind,
        e.record_id,
        e.detail,
        prev,
        hash.as_slice()
    ])?;
    Ok(())
}

pub fn audit_records(conn: &Connection, after: i64, limit: i64) -> StoreResult<Vec<AuditRecord>> {
    all(conn, sql::AUDIT_PAGE, params![after, limit], |r| {
        rows::audit_record(r)
    })
}

pub fn grids_in_units(
    conn: &Connection,
    grids: &[Id],
    communities: &[Id],
    streets: &[Id],
) -> StoreResult<Vec<Id>> {
    const SQL: &str = grids_in_units!(
        "IN (SELECT value FROM json_each($1))",
        "IN (SELECT value FROM json_each($2))",
        "IN (SELECT value FROM json_each($3))"
    );
    all(
        conn,
        SQL,
        params![json_ids(grids), json_ids(communities), json_ids(streets)],
        |r| Ok(r.get(0)?),
    )
}

pub fn buildings_in_scope(
    conn: &Connection,
    scope: &ScopeFilter,
    grid_id: Id,
) -> StoreResult<Vec<Building>> {
    const SQL: &str = buildings_in_scope!("IN (SELECT value FROM json_each($1))");
    all(conn, SQL, params![scope.grid_ids_json(), grid_id], |r| {
        rows::building(r)
    })
}

pub fn insert_dwellings(conn: &Connection, dwellings: &[NewDwelling]) -> StoreResult<Vec<Id>> {
    let mut stmt = conn.prepare_cached(sql::INSERT_DWELLING)?;
    dwellings
        .iter()
        .map(|d| {
            Ok(stmt.query_row(
                params![d.unit_id, d.floor, d.number, d.dwelling_use, d.area_m2],
                |r| r.get(0),
            )?)
        })
        .collect()
}

pub fn dwellings_of_unit(conn: &Connection, unit_id: Id) -> StoreResult<Vec<Dwelling>> {
    all(conn, sql::DWELLINGS_OF_UNIT, [unit_id], |r| {
        rows::dwelling(r)
    })
}

/// Writes a record's search document (inside the record's transaction).
pub fn put_doc(conn: &Connection, doc: &SearchDoc, record_id: Id) -> StoreResult<()> {
    conn.prepare_cached(search::UPSERT)?
        .execute(doc_params(doc, &record_id).as_slice())?;
    Ok(())
}

/// A document's values in the order `search::INSERT` and `UPSERT` take them.
fn doc_params<'a>(doc: &'a SearchDoc, record_id: &'a Id) -> [&'a dyn ToSql; 7] {
    [
        &doc.kind,
        record_id,
        &doc.grid_id,
        &doc.born,
        &doc.title,
        &doc.detail,
        &doc.tokens,
    ]
}

pub fn insert_household(
    conn: &Connection,
    h: &HouseholdRow,
    doc: &SearchDoc,
    e: &AuditEntry,
) -> StoreResult<Id> {
    let id: Id = conn.prepare_cached(sql::INSERT_HOUSEHOLD)?.query_row(
        params![h.grid_id, h.dwelling_id, h.address, time::to_micros(e.at)],
        |r| r.get(0),
    )?;
    put_doc(conn, doc, id)?;
    append_audit(conn, &e.clone().record(id))?;
    Ok(id)
}

pub fn households(
    conn: &Connection,
    scope: &ScopeFilter,
    q: HouseholdQuery,
) -> StoreResult<Vec<Household>> {
    const SQL: &str = households_in_scope!("IN (SELECT value FROM json_each($1))");
    all(
        conn,
        SQL,
        params![
            scope.grid_ids_json(),
            q.grid_id,
            q.unit_id,
            q.limit,
            q.offset
        ],
        |r| rows::household(r),
    )
}

pub fn household(conn: &Connection, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Household>> {
    const SQL: &str = household_in_scope!("IN (SELECT value FROM json_each($1))");
    first(conn, SQL, params![scope.grid_ids_json(), id], |r| {
        rows::household(r)
    })
}

/// A resident's columns in the order the statements take them (household
/// first, so a bulk insert can put the new household's id there).
fn resident_values(r: &ResidentRow) -> Vec<&dyn ToSql> {
    vec![
        &r.household_id,
        &r.grid_id,
        &r.name,
        &r.gender,
        &r.birth_date,
        &r.id_cipher,
        &r.id_blind,
        &r.id_masked,
        &r.phone_cipher,
        &r.phone_masked,
        &r.ethnicity,
        &r.residence_type,
        &r.relation,
        &r.political_status,
        &r.tags,
    ]
}

/// A business's columns in the order the statements take them.
fn business_values(b: &BusinessRow) -> Vec<&dyn ToSql> {
    vec![
        &b.grid_id,
        &b.dwelling_id,
        &b.address,
        &b.name,
        &b.credit_code,
        &b.legal_rep,
        &b.phone_cipher,
        &b.phone_masked,
        &b.opening_date,
        &b.status,
        &b.app_status,
        &b.app_reason,
        &b.app_note,
    ]
}

pub fn insert_resident(
    conn: &Connection,
    r: &ResidentRow,
    doc: &SearchDoc,
    e: &AuditEntry,
) -> StoreResult<Id> {
    let at = time::to_micros(e.at);
    let mut values = resident_values(r);
    values.push(&at);
    let id: Id = conn
        .prepare_cached(sql::INSERT_RESIDENT)?
        .query_row(values.as_slice(), |row| row.get(0))?;
    put_doc(conn, doc, id)?;
    append_audit(conn, &e.clone().record(id))?;
    Ok(id)
}

/// Tells "absent or out of scope" (NotFound) from "changed meanwhile" (Conflict).
fn missed_update(
    conn: &Connection,
    exists_sql: &str,
    id: Id,
    version: i64,
    visible: bool,
) -> StoreError {
    let current: Option<i64> = conn
        .prepare_cached(exists_sql)
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
        .unwrap_or(None);
    match current {
        Some(v) if visible && v != version => StoreError::Conflict(format!(
            "record {id} was changed by someone else (version {v}, not {version})"
        )),
        _ => StoreError::NotFound(format!("record {id}")),
    }
}

pub fn update_resident(
    conn: &Connection,
    scope: &ScopeFilter,
    id: Id,
    version: i64,
    r: &ResidentRow,
    doc: &SearchDoc,
    e: &AuditEntry,
) -> StoreResult<()> {
    const SQL: &str = update_resident_in_scope!("IN (SELECT value FROM json_each($18))");
    let (at, grids, cutoff) = (
        time::to_micros(e.at),
        scope.grid_ids_json(),
        scope.birth_cutoff(),
    );
    let mut values = resident_values(r);
    values.extend([&at as &dyn ToSql, &id, &grids, &cutoff, &version]);
    let changed = conn.prepare_cached(SQL)?.execute(values.as_slice())?;
    if changed != 1 {
        let visible = resident(conn, scope, id)?.is_some();
        return Err(missed_update(
            conn,
            sql::RESIDENT_EXISTS,
            id,
            version,
            visible,
        ));
    }
    put_doc(conn, doc, id)?;
    append_audit(conn, e)
}

pub fn residents(
    conn: &Connection,
    scope: &ScopeFilter,
    q: ResidentQuery,
) -> StoreResult<Vec<Resident>> {
    const SQL: &str = residents_in_scope!("IN (SELECT value FROM json_each($1))");
    all(
        conn,
        SQL,
        params![
            scope.grid_ids_json(),
            scope.birth_cutoff(),
            q.household_id,
            q.grid_id,
            q.limit,
            q.offset
        ],
        |r| rows::resident(r),
    )
}

pub fn resident(conn: &Connection, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Resident>> {
    const SQL: &str = resident_in_scope!("IN (SELECT value FROM json_each($1))");
    first(
        conn,
        SQL,
        params![scope.grid_ids_json(), scope.birth_cutoff(), id],
        |r| rows::resident(r),
    )
}

pub fn resident_by_blind(
    conn: &Connection,
    scope: &ScopeFilter,
    blind: &[u8],
) -> StoreResult<Option<Resident>> {
    const SQL: &str = resident_by_blind_in_scope!("IN (SELECT value FROM json_each($1))");
    first(
        conn,
        SQL,
        params![scope.grid_ids_json(), scope.birth_cutoff(), blind],
        |r| rows::resident(r),
    )
}

pub fn resident_secrets(
    conn: &Connection,
    scope: &ScopeFilter,
    id: Id,
) -> StoreResult<Option<Secrets>> {
    const SQL: &str = resident_secrets_in_scope!("IN (SELECT value FROM json_each($1))");
    first(
        conn,
        SQL,
        params![scope.grid_ids_json(), scope.birth_cutoff(), id],
        |r| rows::secrets(r),
    )
}

pub fn insert_business(
    conn: &Connection,
    b: &BusinessRow,
    doc: &SearchDoc,
    e: &AuditEntry,
) -> StoreResult<Id> {
    let at = time::to_micros(e.at);
    let mut values = business_values(b);
    values.push(&at);
    let id: Id = conn
        .prepare_cached(sql::INSERT_BUSINESS)?
        .query_row(values.as_slice(), |r| r.get(0))?;
    put_doc(conn, doc, id)?;
    append_audit(conn, &e.clone().record(id))?;
    Ok(id)
}

pub fn update_business(
    conn: &Connection,
    scope: &ScopeFilter,
    id: Id,
    version: i64,
    b: &BusinessRow,
    doc: &SearchDoc,
    e: &AuditEntry,
) -> StoreResult<()> {
    const SQL: &str = update_business_in_scope!("IN (SELECT value FROM json_each($16))");
    let (at, grids) = (time::to_micros(e.at), scope.grid_ids_json());
    let mut values = business_values(b);
    values.extend([&at as &dyn ToSql, &id, &grids, &version]);
    let changed = conn.prepare_cached(SQL)?.execute(values.as_slice())?;
    if changed != 1 {
        let visible = business(conn, scope, id)?.is_some();
        return Err(missed_update(
            conn,
            sql::BUSINESS_EXISTS,
            id,
            version,
            visible,
        ));
    }
    put_doc(conn, doc, id)?;
    append_audit(conn, e)
}

pub fn businesses(
    conn: &Connection,
    scope: &ScopeFilter,
    q: BusinessQuery,
) -> StoreResult<Vec<Business>> {
    const SQL: &str = businesses_in_scope!("IN (SELECT value FROM json_each($1))");
    all(
        conn,
        SQL,
        params![scope.grid_ids_json(), q.grid_id, q.limit, q.offset],
        |r| rows::business(r),
    )
}

pub fn business(conn: &Connection, scope: &ScopeFilter, id: Id) -> StoreResult<Option<Business>> {
    const SQL: &str = business_in_scope!("IN (SELECT value FROM json_each($1))");
    first(conn, SQL, params![scope.grid_ids_json(), id], |r| {
        rows::business(r)
    })
}

pub fn business_secrets(
    conn: &Connection,
    scope: &ScopeFilter,
    id: Id,
) -> StoreResult<Option<Secrets>> {
    const SQL: &str = business_secrets_in_scope!("IN (SELECT value FROM json_each($1))");
    first(conn, SQL, params![scope.grid_ids_json(), id], |r| {
        rows::secrets(r)
    })
}

pub fn insert_user(conn: &Connection, u: &NewUser, e: &AuditEntry) -> StoreResult<Id> {
    let id: Id = conn.prepare_cached(sql::INSERT_USER)?.query_row(
        params![
            u.username,
            u.display_name,
            u.role,
            u.password_hash,
            time::to_micros(e.at)
        ],
        |r| r.get(0),
    )?;
    for (kind, ref_id) in &u.scopes {
        conn.prepare_cached(sql::INSERT_USER_SCOPE)?
            .execute(params![id, kind.as_str(), ref_id])?;
    }
    append_audit(conn, &e.clone().record(id))?;
    Ok(id)
}

fn with_scopes(conn: &Connection, user: Option<UserRecord>) -> StoreResult<Option<UserRecord>> {
    let Some(mut user) = user else {
        return Ok(None);
    };
    user.scopes = all(conn, sql::USER_SCOPES, [user.id], |r| rows::scope(r, 0))?;
    Ok(Some(user))
}

pub fn user_by_username(conn: &Connection, username: &str) -> StoreResult<Option<UserRecord>> {
    let user = first(conn, sql::USER_COLUMNS_BY_NAME, [username], |r| {
        rows::user(r)
    })?;
    with_scopes(conn, user)
}

pub fn user(conn: &Connection, id: Id) -> StoreResult<Option<UserRecord>> {
    let user = first(conn, sql::USER_COLUMNS_BY_ID, [id], |r| rows::user(r))?;
    with_scopes(conn, user)
}

pub fn users(conn: &Connection) -> StoreResult<Vec<UserRecord>> {
    let mut users = all(conn, sql::ALL_USERS, [], |r| rows::user(r))?;
    let scopes = all(conn, sql::ALL_USER_SCOPES, [], |r| {
        Ok((r.int(0)?, rows::scope(r, 1)?))
    })?;
    for u in &mut users {
        u.scopes = scopes
            .iter()
            .filter(|(id, _)| *id == u.id)
            .map(|(_, s)| *s)
            .collect();
    }
    Ok(users)
}

pub fn set_password(
    conn: &Connection,
    user_id: Id,
    hash: &str,
    must_change: bool,
    e: &AuditEntry,
) -> StoreResult<()> {
    let n = conn
        .prepare_cached(sql::SET_PASSWORD)?
        .execute(params![hash, must_change, user_id])?;
    if n != 1 {
        return Err(StoreError::NotFound(format!("user {user_id}")));
    }
    conn.prepare_cached(sql::DELETE_USER_SESSIONS)?
        .execute([user_id])?;
    append_audit(conn, e)
}

pub fn set_disabled(
    conn: &Connection,
    user_id: Id,
    disabled: bool,
    e: &AuditEntry,
) -> StoreResult<()> {
    let n = conn
        .prepare_cached(sql::SET_DISABLED)?
        .execute(params![disabled, user_id])?;
    if n != 1 {
        return Err(StoreError::NotFound(format!("user {user_id}")));
    }
    if disabled {
        conn.prepare_cached(sql::DELETE_USER_SESSIONS)?
            .execute([user_id])?;
    }
    append_audit(conn, e)
}

pub fn record_login_failure(
    conn: &Connection,
    user_id: Id,
    max: i64,
    lock_until: jiff::Timestamp,
    e: &AuditEntry,
) -> StoreResult<Option<jiff::Timestamp>> {
    let locked: Option<i64> = conn
        .prepare_cached(sql::LOGIN_FAILED)?
        .query_row(params![max, time::to_micros(lock_until), user_id], |r| {
            r.get(0)
        })?;
    append_audit(conn, e)?;
    Ok(locked
        .map(time::from_micros)
        .filter(|t| *t == time::truncate(lock_until)))
}

pub fn record_login_success(
    conn: &Connection,
    s: &NewSession,
    replaces: Option<&[u8]>,
    e: &AuditEntry,
) -> StoreResult<()> {
    conn.prepare_cached(sql::LOGIN_SUCCEEDED)?
        .execute([s.user_id])?;
    if let Some(old) = replaces {
        conn.prepare_cached(sql::DELETE_SESSION)?.execute([old])?;
    }
    conn.prepare_cached(sql::INSERT_SESSION)?.execute(params![
        s.token_hash,
        s.user_id,
        s.csrf_token,
        time::to_micros(s.at)
    ])?;
    append_audit(conn, e)
}

pub fn session(conn: &Connection, token_hash: &[u8]) -> StoreResult<Option<SessionRecord>> {
    let row: Option<(Id, String, i64, i64)> = conn
        .prepare_cached(sql::SESSION)?
        .query_row([token_hash], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((user_id, csrf_token, created, seen)) = row else {
        return Ok(None);
    };
    Ok(user(conn, user_id)?.map(|user| SessionRecord {
        user,
        csrf_token,
        created_at: time::from_micros(created),
        last_seen: time::from_micros(seen),
    }))
}

pub fn departments(conn: &Connection) -> StoreResult<Vec<Department>> {
    all(conn, sql::ALL_DEPARTMENTS, [], |r| {
        Ok(Department {
            id: r.get(0)?,
            code: r.get(1)?,
            name: r.get(2)?,
        })
    })
}

pub fn insert_department(conn: &Connection, code: &str, name: &str) -> StoreResult<Id> {
    conn.prepare_cached(sql::INSERT_DEPARTMENT)?
        .execute([code, name])?;
    Ok(conn
        .prepare_cached(sql::DEPARTMENT_ID)?
        .query_row([code], |r| r.get(0))?)
}

pub fn insert_households_bulk(
    conn: &Connection,
    households: &[(BulkHousehold, Vec<ResidentRow>)],
    docs: &[(Option<SearchDoc>, Vec<SearchDoc>)],
    e: &AuditEntry,
) -> StoreResult<usize> {
    let at = time::to_micros(e.at);
    let mut count = 0;
    let mut household = conn.prepare_cached(sql::INSERT_HOUSEHOLD)?;
    let mut resident = conn.prepare_cached(sql::INSERT_RESIDENT)?;
    let mut doc_insert = conn.prepare_cached(search::INSERT)?;
    let mut put =
        |doc: &SearchDoc, record_id: Id| doc_insert.execute(doc_params(doc, &record_id).as_slice());
    for ((h, members), (h_doc, r_docs)) in households.iter().zip(docs) {
        let id: Id = match h {
            BulkHousehold::New(h) => household
                .query_row(params![h.grid_id, h.dwelling_id, h.address, at], |r| {
                    r.get(0)
                })?,
            BulkHousehold::Existing(id) => *id,
        };
        if let Some(doc) = h_doc {
            put(doc, id)?;
        }
        for (r, doc) in members.iter().zip(r_docs) {
            let mut values = resident_values(r);
            values[0] = &id;
            values.push(&at);
            let rid: Id = resident.query_row(values.as_slice(), |row| row.get::<_, Id>(0))?;
            put(doc, rid)?;
            count += 1;
        }
    }
    append_audit(conn, e)?;
    Ok(count)
}

pub fn insert_businesses_bulk(
    conn: &Connection,
    rows: &[BusinessRow],
    docs: &[SearchDoc],
    e: &AuditEntry,
) -> StoreResult<usize> {
    let at = time::to_micros(e.at);
    for (b, doc) in rows.iter().zip(docs) {
        let mut values = business_values(b);
        values.push(&at);
        let id: Id = conn
            .prepare_cached(sql::INSERT_BUSINESS)?
            .query_row(values.as_slice(), |r| r.get::<_, Id>(0))?;
        put_doc(conn, doc, id)?;
    }
    append_audit(conn, e)?;
    Ok(rows.len())
}

pub fn update_household(
    conn: &Connection,
    scope: &ScopeFilter,
    id: Id,
    address: &str,
    tokens: &str,
    e: &AuditEntry,
) -> StoreResult<()> {
    const SQL: &str = update_household_in_scope!("IN (SELECT value FROM json_each($4))");
    let n = conn.prepare_cached(SQL)?.execute(params![
        address,
        time::to_micros(e.at),
        id,
        scope.grid_ids_json()
    ])?;
    if n != 1 {
        return Err(StoreError::NotFound(format!("household {id}")));
    }
    conn.prepare_cached(search::RETITLE)?
        .execute(params![address, tokens, "household", id])?;
    append_audit(conn, e)
}

/// Inserts a building and its units (inside the caller's transaction).
pub fn insert_building_row(conn: &Connection, b: &crate::model::NewBuilding) -> StoreResult<Id> {
    let id: Id = conn.prepare_cached(sql::INSERT_BUILDING)?.query_row(
        params![
            b.community_id,
            b.grid_id,
            b.number,
            b.name,
            b.address,
            b.location.lon,
            b.location.lat,
            b.floors,
            b.building_use.as_str()
        ],
        |r| r.get(0),
    )?;
    for u in &b.units {
        conn.prepare_cached(sql::INSERT_UNIT)?.execute(params![
            id,
            u.number,
            u.floors,
            u.dwellings_per_floor
        ])?;
    }
    Ok(id)
}

pub fn create_buildings(
    conn: &Connection,
    buildings: &[(crate::model::NewBuilding, Vec<crate::model::NewDoor>)],
    e: &AuditEntry,
) -> StoreResult<Vec<Id>> {
    let mut ids = Vec::with_capacity(buildings.len());
    let mut dwelling = conn.prepare_cached(sql::INSERT_DWELLING)?;
    for (b, doors) in buildings {
        let id = insert_building_row(conn, b)?;
        let units: Vec<Unit> = all(conn, sql::UNITS_OF_BUILDING, [id], |r| rows::unit(r))?;
        for d in doors {
            let unit = units
                .iter()
                .find(|u| u.number == d.unit)
                .ok_or_else(|| StoreError::NotFound(format!("unit {} of building {id}", d.unit)))?;
            // The statement returns the new id, unused here.
            dwelling.query_row(
                params![unit.id, d.floor, d.number, d.dwelling_use, None::<f64>],
                |_| Ok(()),
            )?;
        }
        ids.push(id);
    }
    let e = match ids.as_slice() {
        [one] => e.clone().record(*one),
        _ => e.clone(),
    };
    append_audit(conn, &e)?;
    Ok(ids)
}

pub fn update_building(
    conn: &Connection,
    scope: &ScopeFilter,
    id: Id,
    grid_id: Id,
    c: &crate::model::BuildingChange,
    e: &AuditEntry,
) -> StoreResult<()> {
    const SQL: &str = update_building_in_scope!("IN (SELECT value FROM json_each($7))");
    let n = conn.prepare_cached(SQL)?.execute(params![
        c.name,
        c.address,
        c.floors,
        c.building_use,
        id,
        grid_id,
        scope.grid_ids_json()
    ])?;
    if n != 1 {
        return Err(StoreError::NotFound(format!("building {id}")));
    }
    append_audit(conn, e)
}

pub fn delete_resident(
    conn: &Connection,
    scope: &ScopeFilter,
    id: Id,
    e: &AuditEntry,
) -> StoreResult<()> {
    const SQL: &str = delete_resident_in_scope!("IN (SELECT value FROM json_each($2))");
    let n = conn.prepare_cached(SQL)?.execute(params![
        id,
        scope.grid_ids_json(),
        scope.birth_cutoff()
    ])?;
    if n != 1 {
        return Err(StoreError::NotFound(format!("resident {id}")));
    }
    conn.prepare_cached(search::DELETE)?
        .execute(params!["resident", id])?;
    append_audit(conn, e)
}

#[cfg(test)]
mod tests {
    use crate::sql;

    /// SQLite numbers `$N` parameters by first appearance, so the shared
    /// text only binds the same way on both backends if every statement
    /// introduces `$1, $2, …` in order.
    fn ascending(stmt: &str) -> Result<(), String> {
        let mut seen: Vec<u32> = Vec::new();
        let bytes = stmt.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'$' {
                let digits: String = stmt[i + 1..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                if let Ok(n) = digits.parse::<u32>() {
                    if !seen.contains(&n) {
                        if n as usize != seen.len() + 1 {
                            return Err(format!("${n} appears before ${}: {stmt}", seen.len() + 1));
                        }
                        seen.push(n);
                    }
                }
                i += digits.len();
            }
            i += 1;
        }
        Ok(())
    }

    #[test]
    fn every_statement_numbers_its_parameters_in_order() {
        let statements = [
            sql::LIST_GRIDS_OF_COMMUNITY,
            sql::GRID_BY_ID,
            sql::BOUNDARY_HISTORY,
            sql::CURRENT_BOUNDARIES_OF_COMMUNITY,
            sql::INSERT_DISTRICT,
            sql::INSERT_STREET,
            sql::INSERT_COMMUNITY,
            sql::INSERT_GRID,
            sql::RENAME_GRID,
            sql::INSERT_BOUNDARY,
            sql::CLOSE_BOUNDARY,
            sql::INSERT_BUILDING,
            sql::INSERT_UNIT,
            sql::REASSIGN_BUILDING,
            sql::REASSIGN_HOUSEHOLDS,
            sql::REASSIGN_RESIDENTS,
            sql::BUILDINGS_OF_GRID,
            sql::INSERT_RESIDENT,
            sql::INSERT_HOUSEHOLD,
            sql::INSERT_DWELLING,
            sql::INSERT_BUSINESS,
            sql::INSERT_USER,
            sql::INSERT_USER_SCOPE,
            sql::SET_PASSWORD,
            sql::SET_DISABLED,
            sql::LOGIN_FAILED,
            sql::INSERT_SESSION,
            sql::TOUCH_SESSION,
            sql::INSERT_DEPARTMENT,
            sql::INSERT_AUDIT,
            sql::AUDIT_PAGE,
            sql::DWELLING_GRID,
            sql::INSERT_CATEGORY,
            sql::INSERT_CALENDAR_DAY,
            sql::INSERT_CASE,
            sql::CASE_BY_IDEMPOTENCY,
            sql::UPDATE_CASE,
            sql::OPEN_CASES_IN_BOX,
            sql::INSERT_CASE_EVENT,
            sql::START_PAUSE,
            sql::END_PAUSE,
            sql::SWEEPABLE_CASES,
            sql::CLIENT_UPDATE,
            sql::INSERT_CLIENT_UPDATE,
            sql::PUBLIC_UPDATES,
            cases_for_open311!("IN ($1)", "IN ($4)", "$4 = 0"),
            sql::INSERT_API_KEY,
            sql::API_KEYS,
            sql::API_KEY_BY_HASH,
            sql::REVOKE_API_KEY,
            sql::ROUTING_RULES,
            sql::INSERT_ROUTING_RULE,
            sql::DELETE_ROUTING_RULE,
            sql::DELETE_ORPHAN_PHOTOS,
            sql::UPSERT_CALENDAR_DAY,
            sql::DELETE_CALENDAR_DAY,
            sql::UPDATE_CATEGORY,
            sql::INSERT_PHOTO,
            sql::PHOTO_META,
            sql::PHOTO_BYTES,
            sql::CASE_PHOTOS,
            sql::ATTACH_PHOTO,
            sql::INSERT_NOTIFICATION,
            sql::NOTIFICATIONS,
            sql::UNREAD_NOTIFICATIONS,
            sql::MARK_NOTIFICATION_READ,
            sql::MARK_ALL_NOTIFICATIONS_READ,
            sql::INSERT_ALERT,
            sql::INSERT_JOB,
            claim_jobs!(""),
            sql::FINISH_JOB,
            sql::RESCHEDULE_JOB,
            sql::INSERT_WEBHOOK,
            sql::SET_WEBHOOK_ACTIVE,
            sql::INSERT_WEBHOOK_ATTEMPT,
            sql::WEBHOOK_ATTEMPTS,
            cases_visible!(
                "IN (SELECT value FROM json_each($1))",
                "IN (SELECT value FROM json_each($4))",
                "json_array_length($4) = 0"
            ),
            grids_in_units!(
                "IN (SELECT value FROM json_each($1))",
                "IN (SELECT value FROM json_each($2))",
                "IN (SELECT value FROM json_each($3))"
            ),
            buildings_in_scope!("IN (SELECT value FROM json_each($1))"),
            households_in_scope!("IN (SELECT value FROM json_each($1))"),
            household_in_scope!("IN (SELECT value FROM json_each($1))"),
            update_household_in_scope!("IN (SELECT value FROM json_each($4))"),
            residents_in_scope!("IN (SELECT value FROM json_each($1))"),
            resident_in_scope!("IN (SELECT value FROM json_each($1))"),
            resident_by_blind_in_scope!("IN (SELECT value FROM json_each($1))"),
            resident_secrets_in_scope!("IN (SELECT value FROM json_each($1))"),
            update_resident_in_scope!("IN (SELECT value FROM json_each($18))"),
            businesses_in_scope!("IN (SELECT value FROM json_each($1))"),
            business_in_scope!("IN (SELECT value FROM json_each($1))"),
            business_secrets_in_scope!("IN (SELECT value FROM json_each($1))"),
            update_business_in_scope!("IN (SELECT value FROM json_each($16))"),
            delete_resident_in_scope!("IN (SELECT value FROM json_each($2))"),
            update_building_in_scope!("IN (SELECT value FROM json_each($7))"),
        ];
        for s in statements {
            ascending(s).unwrap();
        }
        assert!(ascending("UPDATE t SET a = $2 WHERE id = $1").is_err());
    }
}
