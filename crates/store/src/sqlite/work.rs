//! SQLite statements of photos, the inbox, jobs and webhooks.

use rusqlite::{Connection, OptionalExtension, params};
use wangge_core::org::Id;
use wangge_core::time;

use crate::audit::AuditEntry;
use crate::error::{StoreError, StoreResult};
use crate::model::{
    Job, JobOutcome, NewJob, NewPhoto, NewWebhook, Notification, PhotoMeta, WebhookAttempt,
    WebhookAttemptRecord,
};
use crate::sqlite::register::{all, append_audit};
use crate::{rows, sql};

pub fn insert_photo(conn: &Connection, p: &NewPhoto) -> StoreResult<Id> {
    Ok(conn.prepare_cached(sql::INSERT_PHOTO)?.query_row(
        params![
            p.uploaded_by,
            time::to_micros(p.at),
            p.content_type,
            p.width,
            p.height,
            p.bytes,
            p.thumbnail
        ],
        |r| r.get(0),
    )?)
}

pub fn photo_meta(conn: &Connection, id: Id) -> StoreResult<Option<PhotoMeta>> {
    let mut stmt = conn.prepare_cached(sql::PHOTO_META)?;
    let mut rows = stmt.query([id])?;
    rows.next()?.map(rows::photo_meta).transpose()
}

pub fn photo_bytes(conn: &Connection, id: Id) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>> {
    Ok(conn
        .prepare_cached(sql::PHOTO_BYTES)?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

pub fn case_photos(conn: &Connection, case_id: Id) -> StoreResult<Vec<PhotoMeta>> {
    all(conn, sql::CASE_PHOTOS, [case_id], |r| rows::photo_meta(r))
}

pub fn notifications(
    conn: &Connection,
    user_id: Id,
    unread_only: bool,
    limit: i64,
) -> StoreResult<Vec<Notification>> {
    all(
        conn,
        sql::NOTIFICATIONS,
        params![user_id, i64::from(unread_only), limit],
        |r| rows::notification(r),
    )
}

pub fn unread_notifications(conn: &Connection, user_id: Id) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(sql::UNREAD_NOTIFICATIONS)?
        .query_row([user_id], |r| r.get(0))?)
}

pub fn mark_notifications_read(
    conn: &Connection,
    user_id: Id,
    id: Option<Id>,
    at: jiff::Timestamp,
) -> StoreResult<u64> {
    let at = time::to_micros(at);
    let n = match id {
        Some(id) => conn
            .prepare_cached(sql::MARK_NOTIFICATION_READ)?
            .execute(params![at, user_id, id])?,
        None => conn
            .prepare_cached(sql::MARK_ALL_NOTIFICATIONS_READ)?
            .execute(params![at, user_id])?,
    };
    Ok(n as u64)
}

pub fn enqueue_jobs(conn: &Connection, jobs: &[NewJob]) -> StoreResult<()> {
    for j in jobs {
        conn.prepare_cached(sql::INSERT_JOB)?.execute(params![
            j.kind,
            j.unique_key,
            j.payload,
            time::to_micros(j.run_at)
        ])?;
    }
    Ok(())
}

pub fn claim_jobs(
    conn: &Connection,
    kind: &str,
    worker: &str,
    now: jiff::Timestamp,
    lease_until: jiff::Timestamp,
    limit: i64,
) -> StoreResult<Vec<Job>> {
    const SQL: &str = claim_jobs!("");
    all(
        conn,
        SQL,
        params![
            worker,
            time::to_micros(lease_until),
            kind,
            time::to_micros(now),
            limit
        ],
        |r| rows::job(r),
    )
}

pub fn finish_job(
    conn: &Connection,
    id: Id,
    worker: &str,
    outcome: &JobOutcome,
    attempt: Option<&WebhookAttempt>,
) -> StoreResult<()> {
    let finish = |state: &str, run_at: Option<i64>, error: Option<&str>| {
        conn.prepare_cached(sql::FINISH_JOB)?
            .execute(params![state, run_at, error, id, worker])
    };
    let n =
        match outcome {
            JobOutcome::Again { at } => conn
                .prepare_cached(sql::RESCHEDULE_JOB)?
                .execute(params![time::to_micros(*at), id, worker])?,
            JobOutcome::Done => finish("done", None, None)?,
            JobOutcome::Retry { at, error } => {
                finish("queued", Some(time::to_micros(*at)), Some(error))?
            }
            JobOutcome::Failed { error } => finish("failed", None, Some(error))?,
        };
    if n != 1 {
        return Err(StoreError::Conflict(format!(
            "job {id} is no longer leased by {worker}"
        )));
    }
    if let Some(a) = attempt {
        conn.prepare_cached(sql::INSERT_WEBHOOK_ATTEMPT)?
            .execute(params![
                a.webhook_id,
                a.job_id,
                a.event,
                time::to_micros(a.at),
                a.status,
                a.error,
                a.duration_ms
            ])?;
    }
    Ok(())
}

pub fn job_counts(conn: &Connection) -> StoreResult<Vec<(String, String, i64)>> {
    all(conn, sql::JOB_COUNTS, [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
}

pub fn insert_webhook(conn: &Connection, w: &NewWebhook, audit: &AuditEntry) -> StoreResult<Id> {
    let events =
        serde_json::to_string(&w.events).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let id: Id = conn.prepare_cached(sql::INSERT_WEBHOOK)?.query_row(
        params![w.name, w.url, w.secret, events, time::to_micros(w.at)],
        |r| r.get(0),
    )?;
    append_audit(conn, &audit.clone().record(id))?;
    Ok(id)
}

pub fn webhooks(conn: &Connection) -> StoreResult<Vec<crate::model::Webhook>> {
    all(conn, sql::WEBHOOKS, [], |r| rows::webhook(r))
}

pub fn set_webhook_active(
    conn: &Connection,
    id: Id,
    active: bool,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let n = conn
        .prepare_cached(sql::SET_WEBHOOK_ACTIVE)?
        .execute(params![active, id])?;
    if n != 1 {
        return Err(StoreError::NotFound(format!("webhook {id}")));
    }
    append_audit(conn, audit)
}

pub fn webhook_attempts(
    conn: &Connection,
    webhook_id: Id,
    limit: i64,
) -> StoreResult<Vec<WebhookAttemptRecord>> {
    all(
        conn,
        sql::WEBHOOK_ATTEMPTS,
        params![webhook_id, limit],
        |r| rows::webhook_attempt(r),
    )
}

pub fn insert_api_key(
    conn: &Connection,
    user: &crate::model::NewUser,
    name: &str,
    key_hash: &[u8],
    prefix: &str,
    at: jiff::Timestamp,
    audit: &AuditEntry,
) -> StoreResult<crate::model::ApiKey> {
    let user_id = crate::sqlite::register::insert_user(conn, user, audit)?;
    let id: Id = conn.prepare_cached(sql::INSERT_API_KEY)?.query_row(
        params![name, key_hash, prefix, user_id, time::to_micros(at)],
        |r| r.get(0),
    )?;
    Ok(crate::model::ApiKey {
        id,
        name: name.to_owned(),
        prefix: prefix.to_owned(),
        user_id,
        created_at: at,
        revoked_at: None,
    })
}

pub fn api_keys(conn: &Connection) -> StoreResult<Vec<crate::model::ApiKey>> {
    all(conn, sql::API_KEYS, [], |r| rows::api_key(r))
}

pub fn api_key_by_hash(
    conn: &Connection,
    key_hash: &[u8],
) -> StoreResult<Option<crate::model::ApiKey>> {
    let mut stmt = conn.prepare_cached(sql::API_KEY_BY_HASH)?;
    let mut rows = stmt.query([key_hash])?;
    rows.next()?.map(rows::api_key).transpose()
}

pub fn revoke_api_key(
    conn: &Connection,
    name: &str,
    at: jiff::Timestamp,
    audit: &AuditEntry,
) -> StoreResult<()> {
    let n = conn
        .prepare_cached(sql::REVOKE_API_KEY)?
        .execute(params![time::to_micros(at), name])?;
    if n != 1 {
        return Err(StoreError::NotFound(format!("api key {name}")));
    }
    append_audit(conn, audit)
}
