//! PostgreSQL statements of cases, categories and the calendar.

use sqlx::postgres::PgPool;
use sqlx::{Postgres, Transaction};
use wangge_core::category::CategorySpec;
use wangge_core::org::Id;
use wangge_core::time;

use crate::audit::AuditEntry;
use crate::error::{StoreError, StoreResult};
use crate::model::{
    CaseChange, CaseEvent, CaseQuery, CaseRecord, CategoryRecord, Effects, NewCase, PauseChange,
    SweepChange,
};
use crate::postgres::register::append_audit;
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

pub async fn seed_categories(
    pool: &PgPool,
    list: Vec<(CategorySpec, Option<Id>)>,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    for (c, dept) in list {
        sqlx::query(sql::INSERT_CATEGORY)
            .bind(&c.code)
            .bind(&c.parent)
            .bind(&c.name)
            .bind(kind(&c))
            .bind(dept)
            .bind(json(&c.overall)?)
            .bind(json(&c.steps)?)
            .bind(&c.closure)
            .bind(json(&c.questions)?)
            .bind(c.public)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn categories(pool: &PgPool) -> StoreResult<Vec<CategoryRecord>> {
    sqlx::query(sql::ALL_CATEGORIES)
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::category)
        .collect()
}

/// Appends a timeline entry and attaches the photos it names.
async fn insert_event(
    tx: &mut Transaction<'_, Postgres>,
    case_id: Id,
    e: &CaseEvent,
) -> StoreResult<Id> {
    let event_id: Id = sqlx::query_scalar(sql::INSERT_CASE_EVENT)
        .bind(case_id)
        .bind(time::to_micros(e.at))
        .bind(e.actor_id)
        .bind(&e.action)
        .bind(&e.from_state)
        .bind(&e.to_state)
        .bind(&e.visibility)
        .bind(&e.note)
        .bind(e.department_id)
        .fetch_one(&mut **tx)
        .await?;
    for photo in &e.photo_ids {
        let n = sqlx::query(sql::ATTACH_PHOTO)
            .bind(case_id)
            .bind(event_id)
            .bind(photo)
            .bind(e.actor_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if n != 1 {
            return Err(StoreError::Conflict(format!(
                "photo {photo} is not an unattached upload of this user"
            )));
        }
    }
    Ok(event_id)
}

/// Writes inbox messages and queues jobs.
pub(crate) async fn apply_effects(
    tx: &mut Transaction<'_, Postgres>,
    effects: &Effects,
) -> StoreResult<()> {
    for n in &effects.notifications {
        sqlx::query(sql::INSERT_NOTIFICATION)
            .bind(n.user_id)
            .bind(n.case_id)
            .bind(&n.kind)
            .bind(time::to_micros(n.at))
            .bind(&n.message)
            .execute(&mut **tx)
            .await?;
    }
    for j in &effects.jobs {
        sqlx::query(sql::INSERT_JOB)
            .bind(&j.kind)
            .bind(&j.unique_key)
            .bind(&j.payload)
            .bind(time::to_micros(j.run_at))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn insert_case(
    pool: &PgPool,
    c: NewCase,
    e: CaseEvent,
    mut effects: Effects,
    audit: AuditEntry,
) -> StoreResult<Id> {
    let doc = crate::search::case_doc(&c);
    let mut tx = pool.begin().await?;
    let id: Id = sqlx::query_scalar(sql::INSERT_CASE)
        .bind(c.public_code)
        .bind(c.category_id)
        .bind(c.source)
        .bind(c.grid_id)
        .bind(c.lon)
        .bind(c.lat)
        .bind(c.address)
        .bind(c.description)
        .bind(c.urgency)
        .bind(c.reporter_id)
        .bind(c.reporter_name)
        .bind(c.department_id)
        .bind(time::to_micros(c.at))
        .bind(c.answers)
        .bind(c.idempotency_key)
        .bind(c.request_hash)
        .fetch_one(&mut *tx)
        .await?;
    insert_event(&mut tx, id, &e).await?;
    super::register::put_doc(&mut tx, &doc, id).await?;
    for n in &mut effects.notifications {
        n.case_id.get_or_insert(id);
    }
    apply_effects(&mut tx, &effects).await?;
    append_audit(&mut tx, &audit.record(id)).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn case_by_idempotency(
    pool: &PgPool,
    reporter: Id,
    key: &str,
) -> StoreResult<Option<(Id, Option<Vec<u8>>)>> {
    Ok(sqlx::query_as(sql::CASE_BY_IDEMPOTENCY)
        .bind(reporter)
        .bind(key.to_owned())
        .fetch_optional(pool)
        .await?)
}

pub async fn case_by_id(pool: &PgPool, id: Id) -> StoreResult<Option<CaseRecord>> {
    sqlx::query(sql::CASE_BY_ID)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(rows::case)
        .transpose()
}

pub async fn case_by_code(pool: &PgPool, code: &str) -> StoreResult<Option<CaseRecord>> {
    sqlx::query(sql::CASE_BY_CODE)
        .bind(code.to_owned())
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(rows::case)
        .transpose()
}

pub async fn cases(pool: &PgPool, q: CaseQuery) -> StoreResult<Vec<CaseRecord>> {
    const SQL: &str = cases_visible!("= ANY($1)", "= ANY($4)", "cardinality($4::text[]) = 0");
    sqlx::query(SQL)
        .bind(q.grid_ids)
        .bind(q.department_id)
        .bind(q.reporter_id)
        .bind(q.states)
        .bind(q.limit)
        .bind(q.offset)
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::case)
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub async fn update_case(
    pool: &PgPool,
    id: Id,
    version: i64,
    c: CaseChange,
    e: CaseEvent,
    pause: Option<PauseChange>,
    effects: Effects,
    audit: AuditEntry,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    update_case_in(&mut tx, id, version, c, &e, pause).await?;
    apply_effects(&mut tx, &effects).await?;
    append_audit(&mut tx, &audit).await?;
    tx.commit().await?;
    Ok(())
}

async fn update_case_in(
    tx: &mut Transaction<'_, Postgres>,
    id: Id,
    version: i64,
    c: CaseChange,
    e: &CaseEvent,
    pause: Option<PauseChange>,
) -> StoreResult<()> {
    let n = sqlx::query(sql::UPDATE_CASE)
        .bind(c.state)
        .bind(c.pending)
        .bind(c.level)
        .bind(c.resume_to)
        .bind(c.department_id)
        .bind(time::to_micros(c.clock_start))
        .bind(c.step)
        .bind(c.step_started_at.map(time::to_micros))
        .bind(c.extra_hours)
        .bind(c.rework_count)
        .bind(c.closed_at.map(time::to_micros))
        .bind(c.rating)
        .bind(c.rating_comment)
        .bind(c.merged_into)
        .bind(id)
        .bind(version)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict(format!("case {id} changed meanwhile")));
    }
    match pause {
        Some(PauseChange::Start {
            at,
            reason,
            review_on,
        }) => {
            sqlx::query(sql::START_PAUSE)
                .bind(id)
                .bind(time::to_micros(at))
                .bind(reason)
                .bind(review_on)
                .execute(&mut **tx)
                .await?;
        }
        Some(PauseChange::End { at }) => {
            sqlx::query(sql::END_PAUSE)
                .bind(time::to_micros(at))
                .bind(id)
                .execute(&mut **tx)
                .await?;
        }
        None => {}
    }
    insert_event(tx, id, e).await?;
    Ok(())
}

/// Records an alert once, with its effects and escalation.
pub async fn raise_alert(
    pool: &PgPool,
    case_id: Id,
    key: String,
    at: jiff::Timestamp,
    effects: Effects,
    escalation: Option<SweepChange>,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let new = sqlx::query(sql::INSERT_ALERT)
        .bind(case_id)
        .bind(key)
        .bind(time::to_micros(at))
        .execute(&mut *tx)
        .await?
        .rows_affected()
        == 1;
    if !new {
        return Ok(false);
    }
    if let Some(s) = escalation {
        match update_case_in(&mut tx, case_id, s.version, s.change, &s.event, None).await {
            // Someone acted meanwhile: the alert stands, the escalation is moot.
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e),
            Ok(()) => append_audit(&mut tx, &s.audit).await?,
        }
    }
    apply_effects(&mut tx, &effects).await?;
    tx.commit().await?;
    Ok(true)
}

pub async fn case_events(pool: &PgPool, id: Id) -> StoreResult<Vec<CaseEvent>> {
    sqlx::query(sql::CASE_EVENTS)
        .bind(id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::case_event)
        .collect()
}

pub async fn case_pauses(
    pool: &PgPool,
    id: Id,
) -> StoreResult<Vec<(jiff::Timestamp, Option<jiff::Timestamp>)>> {
    let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(sql::CASE_PAUSES)
        .bind(id)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(a, b)| (time::from_micros(a), b.map(time::from_micros)))
        .collect())
}

pub async fn seed_calendar_days(
    pool: &PgPool,
    days: Vec<(String, String, String)>,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    for (d, k, n) in days {
        sqlx::query(sql::INSERT_CALENDAR_DAY)
            .bind(d)
            .bind(k)
            .bind(n)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn calendar_days(pool: &PgPool) -> StoreResult<Vec<(String, String, String)>> {
    Ok(sqlx::query_as(sql::CALENDAR_DAYS).fetch_all(pool).await?)
}

pub async fn set_calendar_day(
    pool: &PgPool,
    day: String,
    kind_and_name: Option<(String, String)>,
    audit: AuditEntry,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    match kind_and_name {
        Some((kind, name)) => {
            sqlx::query(sql::UPSERT_CALENDAR_DAY)
                .bind(&day)
                .bind(kind)
                .bind(name)
                .execute(&mut *tx)
                .await?;
        }
        None => {
            let n = sqlx::query(sql::DELETE_CALENDAR_DAY)
                .bind(&day)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound(format!("calendar day {day}")));
            }
        }
    }
    append_audit(&mut tx, &audit).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn update_category(
    pool: &PgPool,
    c: CategoryRecord,
    audit: AuditEntry,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let n = sqlx::query(sql::UPDATE_CATEGORY)
        .bind(&c.spec.name)
        .bind(c.department_id)
        .bind(json(&c.spec.overall)?)
        .bind(json(&c.spec.steps)?)
        .bind(&c.spec.closure)
        .bind(json(&c.spec.questions)?)
        .bind(c.spec.public)
        .bind(c.active)
        .bind(c.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(StoreError::NotFound(format!("category {}", c.id)));
    }
    append_audit(&mut tx, &audit.record(c.id)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn routing_rules(pool: &PgPool) -> StoreResult<Vec<wangge_core::routing::RoutingRule>> {
    sqlx::query(sql::ROUTING_RULES)
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::routing_rule)
        .collect()
}

pub async fn insert_routing_rule(
    pool: &PgPool,
    r: wangge_core::routing::RoutingRule,
    audit: AuditEntry,
) -> StoreResult<Id> {
    let mut tx = pool.begin().await?;
    let id: Id = sqlx::query_scalar(sql::INSERT_ROUTING_RULE)
        .bind(r.category)
        .bind(r.community_id)
        .bind(r.street_id)
        .bind(r.department_id)
        .fetch_one(&mut *tx)
        .await?;
    append_audit(&mut tx, &audit.record(id)).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete_routing_rule(pool: &PgPool, id: Id, audit: AuditEntry) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let n = sqlx::query(sql::DELETE_ROUTING_RULE)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(StoreError::NotFound(format!("routing rule {id}")));
    }
    append_audit(&mut tx, &audit.record(id)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn public_cases(
    pool: &PgPool,
    q: crate::model::PublicCaseQuery,
) -> StoreResult<Vec<CaseRecord>> {
    const SQL: &str = cases_for_open311!("= ANY($1)", "= ANY($4)", "cardinality($4::text[]) = 0");
    sqlx::query(SQL)
        .bind(q.category_ids)
        .bind(time::to_micros(q.from))
        .bind(time::to_micros(q.to))
        .bind(q.states)
        .bind(q.limit)
        .bind(q.offset)
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::case)
        .collect()
}

pub async fn add_client_update(
    pool: &PgPool,
    api_key_id: Id,
    update_id: String,
    case_id: Id,
    event: CaseEvent,
    audit: AuditEntry,
) -> StoreResult<(Id, bool)> {
    let mut tx = pool.begin().await?;
    let found: Option<Id> = sqlx::query_scalar(sql::CLIENT_UPDATE)
        .bind(api_key_id)
        .bind(&update_id)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(id) = found {
        return Ok((id, false));
    }
    let event_id = insert_event(&mut tx, case_id, &event).await?;
    sqlx::query(sql::INSERT_CLIENT_UPDATE)
        .bind(api_key_id)
        .bind(&update_id)
        .bind(case_id)
        .bind(event_id)
        .execute(&mut *tx)
        .await?;
    append_audit(&mut tx, &audit.record(case_id)).await?;
    tx.commit().await?;
    Ok((event_id, true))
}
