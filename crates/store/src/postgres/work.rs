//! PostgreSQL statements of photos, the inbox, jobs and webhooks.

use sqlx::postgres::PgPool;
use wangge_core::org::Id;
use wangge_core::time;

use crate::audit::AuditEntry;
use crate::error::{StoreError, StoreResult};
use crate::model::{
    Job, JobOutcome, NewJob, NewPhoto, NewWebhook, Notification, PhotoMeta, Webhook,
    WebhookAttempt, WebhookAttemptRecord,
};
use crate::postgres::register::append_audit;
use crate::{rows, sql};

pub async fn insert_photo(pool: &PgPool, p: NewPhoto) -> StoreResult<Id> {
    Ok(sqlx::query_scalar(sql::INSERT_PHOTO)
        .bind(p.uploaded_by)
        .bind(time::to_micros(p.at))
        .bind(p.content_type)
        .bind(p.width)
        .bind(p.height)
        .bind(p.bytes)
        .bind(p.thumbnail)
        .fetch_one(pool)
        .await?)
}

pub async fn photo_meta(pool: &PgPool, id: Id) -> StoreResult<Option<PhotoMeta>> {
    sqlx::query(sql::PHOTO_META)
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(rows::photo_meta)
        .transpose()
}

pub async fn photo_bytes(pool: &PgPool, id: Id) -> StoreResult<Option<(Vec<u8>, Vec<u8>)>> {
    Ok(sqlx::query_as(sql::PHOTO_BYTES)
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

pub async fn case_photos(pool: &PgPool, case_id: Id) -> StoreResult<Vec<PhotoMeta>> {
    sqlx::query(sql::CASE_PHOTOS)
        .bind(case_id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::photo_meta)
        .collect()
}

pub async fn notifications(
    pool: &PgPool,
    user_id: Id,
    unread_only: bool,
    limit: i64,
) -> StoreResult<Vec<Notification>> {
    sqlx::query(sql::NOTIFICATIONS)
        .bind(user_id)
        .bind(i64::from(unread_only))
        .bind(limit)
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::notification)
        .collect()
}

pub async fn unread_notifications(pool: &PgPool, user_id: Id) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(sql::UNREAD_NOTIFICATIONS)
        .bind(user_id)
        .fetch_one(pool)
        .await?)
}

pub async fn mark_notifications_read(
    pool: &PgPool,
    user_id: Id,
    id: Option<Id>,
    at: jiff::Timestamp,
) -> StoreResult<u64> {
    let at = time::to_micros(at);
    let done = match id {
        Some(id) => {
            sqlx::query(sql::MARK_NOTIFICATION_READ)
                .bind(at)
                .bind(user_id)
                .bind(id)
                .execute(pool)
                .await?
        }
        None => {
            sqlx::query(sql::MARK_ALL_NOTIFICATIONS_READ)
                .bind(at)
                .bind(user_id)
                .execute(pool)
                .await?
        }
    };
    Ok(done.rows_affected())
}

pub async fn enqueue_jobs(pool: &PgPool, jobs: Vec<NewJob>) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    for j in jobs {
        sqlx::query(sql::INSERT_JOB)
            .bind(j.kind)
            .bind(j.unique_key)
            .bind(j.payload)
            .bind(time::to_micros(j.run_at))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn claim_jobs(
    pool: &PgPool,
    kind: &str,
    worker: &str,
    now: jiff::Timestamp,
    lease_until: jiff::Timestamp,
    limit: i64,
) -> StoreResult<Vec<Job>> {
    const SQL: &str = claim_jobs!("FOR UPDATE SKIP LOCKED");
    sqlx::query(SQL)
        .bind(worker.to_owned())
        .bind(time::to_micros(lease_until))
        .bind(kind.to_owned())
        .bind(time::to_micros(now))
        .bind(limit)
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::job)
        .collect()
}

pub async fn finish_job(
    pool: &PgPool,
    id: Id,
    worker: &str,
    outcome: JobOutcome,
    attempt: Option<WebhookAttempt>,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let query = match outcome {
        JobOutcome::Again { at } => sqlx::query(sql::RESCHEDULE_JOB)
            .bind(time::to_micros(at))
            .bind(id)
            .bind(worker.to_owned()),
        JobOutcome::Done => sqlx::query(sql::FINISH_JOB)
            .bind("done")
            .bind(None::<i64>)
            .bind(None::<String>)
            .bind(id)
            .bind(worker.to_owned()),
        JobOutcome::Retry { at, error } => sqlx::query(sql::FINISH_JOB)
            .bind("queued")
            .bind(Some(time::to_micros(at)))
            .bind(Some(error))
            .bind(id)
            .bind(worker.to_owned()),
        JobOutcome::Failed { error } => sqlx::query(sql::FINISH_JOB)
            .bind("failed")
            .bind(None::<i64>)
            .bind(Some(error))
            .bind(id)
            .bind(worker.to_owned()),
    };
    let n = query.execute(&mut *tx).await?.rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict(format!(
            "job {id} is no longer leased by {worker}"
        )));
    }
    if let Some(a) = attempt {
        sqlx::query(sql::INSERT_WEBHOOK_ATTEMPT)
            .bind(a.webhook_id)
            .bind(a.job_id)
            .bind(a.event)
            .bind(time::to_micros(a.at))
            .bind(a.status)
            .bind(a.error)
            .bind(a.duration_ms)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn job_counts(pool: &PgPool) -> StoreResult<Vec<(String, String, i64)>> {
    Ok(sqlx::query_as(sql::JOB_COUNTS).fetch_all(pool).await?)
}

pub async fn insert_webhook(pool: &PgPool, w: NewWebhook, audit: AuditEntry) -> StoreResult<Id> {
    let events =
        serde_json::to_string(&w.events).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut tx = pool.begin().await?;
    let id: Id = sqlx::query_scalar(sql::INSERT_WEBHOOK)
        .bind(w.name)
        .bind(w.url)
        .bind(w.secret)
        .bind(events)
        .bind(time::to_micros(w.at))
        .fetch_one(&mut *tx)
        .await?;
    append_audit(&mut tx, &audit.record(id)).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn webhooks(pool: &PgPool) -> StoreResult<Vec<Webhook>> {
    sqlx::query(sql::WEBHOOKS)
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::webhook)
        .collect()
}

pub async fn set_webhook_active(
    pool: &PgPool,
    id: Id,
    active: bool,
    audit: AuditEntry,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let n = sqlx::query(sql::SET_WEBHOOK_ACTIVE)
        .bind(active)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(StoreError::NotFound(format!("webhook {id}")));
    }
    append_audit(&mut tx, &audit).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn webhook_attempts(
    pool: &PgPool,
    webhook_id: Id,
    limit: i64,
) -> StoreResult<Vec<WebhookAttemptRecord>> {
    sqlx::query(sql::WEBHOOK_ATTEMPTS)
        .bind(webhook_id)
        .bind(limit)
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::webhook_attempt)
        .collect()
}

pub async fn insert_api_key(
    pool: &PgPool,
    user: crate::model::NewUser,
    name: String,
    key_hash: Vec<u8>,
    prefix: String,
    at: jiff::Timestamp,
    audit: AuditEntry,
) -> StoreResult<crate::model::ApiKey> {
    let mut tx = pool.begin().await?;
    let user_id = crate::postgres::register::insert_user_in(&mut tx, &user, &audit).await?;
    let id: Id = sqlx::query_scalar(sql::INSERT_API_KEY)
        .bind(&name)
        .bind(key_hash)
        .bind(&prefix)
        .bind(user_id)
        .bind(time::to_micros(at))
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(crate::model::ApiKey {
        id,
        name,
        prefix,
        user_id,
        created_at: at,
        revoked_at: None,
    })
}

pub async fn api_keys(pool: &PgPool) -> StoreResult<Vec<crate::model::ApiKey>> {
    sqlx::query(sql::API_KEYS)
        .fetch_all(pool)
        .await?
        .iter()
        .map(rows::api_key)
        .collect()
}

pub async fn api_key_by_hash(
    pool: &PgPool,
    key_hash: &[u8],
) -> StoreResult<Option<crate::model::ApiKey>> {
    sqlx::query(sql::API_KEY_BY_HASH)
        .bind(key_hash.to_vec())
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(rows::api_key)
        .transpose()
}

pub async fn revoke_api_key(
    pool: &PgPool,
    name: &str,
    at: jiff::Timestamp,
    audit: AuditEntry,
) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let n = sqlx::query(sql::REVOKE_API_KEY)
        .bind(time::to_micros(at))
        .bind(name.to_owned())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(StoreError::NotFound(format!("api key {name}")));
    }
    append_audit(&mut tx, &audit).await?;
    tx.commit().await?;
    Ok(())
}
