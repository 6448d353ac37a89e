//! SQLite statements of cases, categories and the calendar.

use rusqlite::{Connection, OptionalExtension, params};
use wangge_core::category::CategorySpec;
use wangge_core::org::Id;
use wangge_core::time;

use crate::audit::AuditEntry;
use crate::error::{StoreError, StoreResult};
use crate::model::{
    CaseChange, CaseEvent, CaseQuery, CaseRecord, CategoryRecord, Effects, NewCase, PauseChange,
    SweepChange,
};
use crate::sqlite::register::append_audit;
use crate::{rows, sql};

fn json(v: &impl serde::Serialize) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn kind(spec: &CategorySpec) -> &'static str {
    match spec.kind {
        wangge_core::category::CategoryKind::Component => "component",
        wangge_core::category::CategoryKind::Event => "event",
        wangge_core::category::CategoryKind::Community => "community",
    }
}

pub fn seed_categories(conn: &Connection, list: &[(CategorySpec, Option<Id>)]) -> StoreResult<()> {
    for (c, dept) in list {
        conn.prepare_cached(sql::INSERT_CATEGORY)?.execute(params![
            c.code,
            c.parent,
            c.name,
            kind(c),
            dept,
            json(&c.overall)?,
            json(&c.steps)?,
            c.closure,
            json(&c.questions)?,
            c.public
        ])?;
    }
    Ok(())
}

pub fn categories(conn: &Connection) -> StoreResult<Vec<CategoryRecord>> {
    let mut stmt = conn.prepare_cached(sql::ALL_CATEGORIES)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(rows::category(r)?);
    }
    Ok(out)
}

/// Appends a timeline entry and attaches the photos it names.
pub fn insert_event(conn: &Connection, case_id: Id, e: &CaseEvent) -> StoreResult<Id> {
    let event_id: Id = conn.prepare_cached(sql::INSERT_CASE_EVENT)?.query_row(
        params![
            case_id,
            time::to_micros(e.at),
            e.actor_id,
            e.action,
            e.from_state,
            e.to_state,
            e.visibility,
            e.note,
            e.department_id
        ],
        |r| r.get(0),
    )?;
    for photo in &e.photo_ids {
        let n = conn
            .prepare_cached(sql::ATTACH_PHOTO)?
            .execute(params![case_id, event_id, photo, e.actor_id])?;
        if n != 1 {
            return Err(StoreError::Conflict(format!(
                "photo {photo} is not an unattached upload of this user"
            )));
        }
    }
    Ok(event_id)
}

/// Writes inbox messages and queues jobs.
pub fn apply_effects(conn: &Connection, effects: &Effects) -> StoreResult<()> {
    for n in &effects.notifications {
        conn.prepare_cached(sql::INSERT_NOTIFICATION)?
            .execute(params![
                n.user_id,
                n.case_id,
                n.kind,
                time::to_micros(n.at),
                n.message
            ])?;
    }
    for j in &effects.jobs {
        conn.prepare_cached(sql::INSERT_JOB)?.execute(params![
            j.kind,
            j.unique_key,
            j.payload,
            time::to_micros(j.run_at)
        ])?;
    }
    Ok(())
}

pub fn insert_case(
    conn: &Connection,
    c: &NewCase,
    doc: &crate::search::SearchDoc,
    e: &CaseEvent,
    effects: &Effects,
    audit: &AuditEntry,
) -> StoreResult<Id> {
    let at = time::to_micros(c.at);
    let id: Id = conn.prepare_cached(sql::INSERT_CASE)?.query_row(
        params![
            c.public_code,
            c.category_id,
            c.source,
            c.grid_id,
            c.lon,
            c.lat,
            c.address,
            c.description,
            c.urgency,
            c.reporter_id,
            c.reporter_name,
            c.department_id,
            at,
            c.answers,
            c.idempotency_key,
            c.request_hash
        ],
        |r| r.get(0),
    )?;
    insert_event(conn, id, e)?;
    super::register::put_doc(conn, doc, id)?;
    let mut effects = effects.clone();
    for n in &mut effects.notifications {
        n.case_id.get_or_insert(id);
    }
    apply_effects(conn, &effects)?;
    append_audit(conn, &audit.clone().record(id))?;
    Ok(id)
}

pub fn case_by_idempotency(
    conn: &Connection,
    reporter: Id,
    key: &str,
) -> StoreResult<Option<(Id, Option<Vec<u8>>)>> {
    Ok(conn
        .prepare_cached(sql::CASE_BY_IDEMPOTENCY)?
        .query_row(params![reporter, key], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

pub fn case_by(
    conn: &Connection,
    sql: &str,
    key: rusqlite::types::Value,
) -> StoreResult<Option<CaseRecord>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query([key])?;
    rows.next()?.map(rows::case).transpose()
}

pub fn cases(conn: &Connection, q: &CaseQuery) -> StoreResult<Vec<CaseRecord>> {
    const SQL: &str = cases_visible!(
        "IN (SELECT value FROM json_each($1))",
        "IN (SELECT value FROM json_each($4))",
        "json_array_length($4) = 0"
    );
    let grids =
        serde_json::to_string(&q.grid_ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let states =
        serde_json::to_string(&q.states).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut stmt = conn.prepare_cached(SQL)?;
    let mut rows = stmt.query(params![
        grids,
        q.department_id,
        q.reporter_id,
        states,
        q.limit,
        q.offset
    ])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(rows::case(r)?);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
pub fn update_case(
    conn: &Connection,
    id: Id,
    version: i64,
    c: &CaseChange,
    e: &CaseEvent,
    pause: Option<&PauseChange>,
    effects: &Effects,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let n = conn.prepare_cached(sql::UPDATE_CASE)?.execute(params![
        c.state,
        c.pending,
        c.level,
        c.resume_to,
        c.department_id,
        time::to_micros(c.clock_start),
        c.step,
        c.step_started_at.map(time::to_micros),
        c.extra_hours,
        c.rework_count,
        c.closed_at.map(time::to_micros),
        c.rating,
        c.rating_comment,
        c.merged_into,
        id,
        version
    ])?;
    if n != 1 {
        return Err(StoreError::Conflict(format!("case {id} changed meanwhile")));
    }
    match pause {
        Some(PauseChange::Start {
            at,
            reason,
            review_on,
        }) => {
            conn.prepare_cached(sql::START_PAUSE)?.execute(params![
                id,
                time::to_micros(*at),
                reason,
                review_on
            ])?;
        }
        Some(PauseChange::End { at }) => {
            conn.prepare_cached(sql::END_PAUSE)?
                .execute(params![time::to_micros(*at), id])?;
        }
        None => {}
    }
    insert_event(conn, id, e)?;
    apply_effects(conn, effects)?;
    append_audit(conn, audit)
}

/// Records an alert once, with its effects and escalation.
pub fn raise_alert(
    conn: &Connection,
    case_id: Id,
    key: &str,
    at: jiff::Timestamp,
    effects: &Effects,
    escalation: Option<&SweepChange>,
) -> StoreResult<bool> {
    let new = conn.prepare_cached(sql::INSERT_ALERT)?.execute(params![
        case_id,
        key,
        time::to_micros(at)
    ])? == 1;
    if !new {
        return Ok(false);
    }
    if let Some(s) = escalation {
        match update_case(
            conn,
            case_id,
            s.version,
            &s.change,
            &s.event,
            None,
            &Effects::default(),
            &s.audit,
        ) {
            // Someone acted meanwhile: the alert stands, the escalation is moot.
            Err(StoreError::Conflict(_)) => {}
            other => other?,
        }
    }
    apply_effects(conn, effects)?;
    Ok(true)
}

pub fn case_events(conn: &Connection, id: Id) -> StoreResult<Vec<CaseEvent>> {
    let mut stmt = conn.prepare_cached(sql::CASE_EVENTS)?;
    let mut rows = stmt.query([id])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(rows::case_event(r)?);
    }
    Ok(out)
}

pub fn case_pauses(
    conn: &Connection,
    id: Id,
) -> StoreResult<Vec<(jiff::Timestamp, Option<jiff::Timestamp>)>> {
    let mut stmt = conn.prepare_cached(sql::CASE_PAUSES)?;
    let rows = stmt.query_map([id], |r| {
        Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?))
    })?;
    rows.map(|r| {
        let (a, b) = r?;
        Ok((time::from_micros(a), b.map(time::from_micros)))
    })
    .collect()
}

pub fn seed_calendar_days(conn: &Connection, days: &[(String, String, String)]) -> StoreResult<()> {
    for (d, k, n) in days {
        conn.prepare_cached(sql::INSERT_CALENDAR_DAY)?
            .execute(params![d, k, n])?;
    }
    Ok(())
}

pub fn calendar_days(conn: &Connection) -> StoreResult<Vec<(String, String, String)>> {
    let mut stmt = conn.prepare_cached(sql::CALENDAR_DAYS)?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn set_calendar_day(
    conn: &Connection,
    day: &str,
    kind_and_name: Option<&(String, String)>,
    audit: &AuditEntry,
) -> StoreResult<()> {
    match kind_and_name {
        Some((kind, name)) => {
            conn.prepare_cached(sql::UPSERT_CALENDAR_DAY)?
                .execute(params![day, kind, name])?;
        }
        None => {
            let n = conn
                .prepare_cached(sql::DELETE_CALENDAR_DAY)?
                .execute(params![day])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("calendar day {day}")));
            }
        }
    }
    append_audit(conn, audit)
}

pub fn update_category(
    conn: &Connection,
    c: &CategoryRecord,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let n = conn.prepare_cached(sql::UPDATE_CATEGORY)?.execute(params![
        c.spec.name,
        c.department_id,
        json(&c.spec.overall)?,
        json(&c.spec.steps)?,
        c.spec.closure,
        json(&c.spec.questions)?,
        c.spec.public,
        c.active,
        c.id
    ])?;
    if n != 1 {
        return Err(StoreError::NotFound(format!("category {}", c.id)));
    }
    append_audit(conn, &audit.clone().record(c.id))
}

pub fn insert_routing_rule(
    conn: &Connection,
    r: &wangge_core::routing::RoutingRule,
    audit: &AuditEntry,
) -> StoreResult<Id> {
    let id: Id = conn.prepare_cached(sql::INSERT_ROUTING_RULE)?.query_row(
        params![r.category, r.community_id, r.street_id, r.department_id],
        |row| row.get(0),
    )?;
    append_audit(conn, &audit.clone().record(id))?;
    Ok(id)
}

pub fn delete_routing_rule(conn: &Connection, id: Id, audit: &AuditEntry) -> StoreResult<()> {
    let n = conn
        .prepare_cached(sql::DELETE_ROUTING_RULE)?
        .execute(params![id])?;
    if n != 1 {
        return Err(StoreError::NotFound(format!("routing rule {id}")));
    }
    append_audit(conn, &audit.clone().record(id))
}

pub fn public_cases(
    conn: &Connection,
    q: &crate::model::PublicCaseQuery,
) -> StoreResult<Vec<CaseRecord>> {
    const SQL: &str = cases_for_open311!(
        "IN (SELECT value FROM json_each($1))",
        "IN (SELECT value FROM json_each($4))",
        "json_array_length($4) = 0"
    );
    let categories =
        serde_json::to_string(&q.category_ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let states =
        serde_json::to_string(&q.states).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut stmt = conn.prepare_cached(SQL)?;
    let mut rows = stmt.query(params![
        categories,
        time::to_micros(q.from),
        time::to_micros(q.to),
        states,
        q.limit,
        q.offset
    ])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(rows::case(r)?);
    }
    Ok(out)
}

pub fn add_client_update(
    conn: &Connection,
    api_key_id: Id,
    update_id: &str,
    case_id: Id,
    event: &CaseEvent,
    audit: &AuditEntry,
) -> StoreResult<(Id, bool)> {
    if let Some(id) = conn
        .prepare_cached(sql::CLIENT_UPDATE)?
        .query_row(params![api_key_id, update_id], |r| r.get::<_, Id>(0))
        .optional()?
    {
        return Ok((id, false));
    }
    let event_id = insert_event(conn, case_id, event)?;
    conn.prepare_cached(sql::INSERT_CLIENT_UPDATE)?
        .execute(params![api_key_id, update_id, case_id, event_id])?;
    append_audit(conn, &audit.clone().record(case_id))?;
    Ok((event_id, true))
}
