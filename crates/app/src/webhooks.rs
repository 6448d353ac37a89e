//! Outgoing webhooks: signed JSON for case events, delivered by a job with
//! retries and backoff, every attempt logged.
//!
//! A delivery is `POST url` with the JSON body and
//! `X-Wangge-Event: case.dispatched`,
//! `X-Wangge-Delivery: <job id>`,
//! `X-Wangge-Timestamp: <unix seconds>` and
//! `X-Wangge-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`,
//! so a receiver can check both origin and freshness. Any 2xx answer is
//! delivered; anything else is retried after 30 s, 2 min, 10 min, 1 h and
//! 6 h, then given up (the log shows each attempt).

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Sha256;
use wangge_core::org::Id;
use wangge_core::policy::Actor;
use wangge_core::workflow::{Action, CaseState};
use wangge_store::{
    AuditEntry, CaseRecord, Job, JobOutcome, NewJob, NewWebhook, Webhook, WebhookAttempt,
};

use crate::App;
use crate::cases::Reference;
use crate::error::{AppError, Resource};
use crate::privacy::random_bytes;

pub const JOB_KIND: &str = "webhook";
/// The vault field name webhook secrets are encrypted under.
const SECRET_FIELD: &str = "webhook.secret";
/// Delays before the 2nd, 3rd … attempt; after the last, the delivery fails.
pub const BACKOFF: &[Duration] = &[
    Duration::from_secs(30),
    Duration::from_secs(120),
    Duration::from_secs(600),
    Duration::from_secs(3600),
    Duration::from_secs(6 * 3600),
];
const TIMEOUT: Duration = Duration::from_secs(10);

/// The event an action raises: `case.` and what happened.
pub fn event_of(action: Action) -> &'static str {
    match action {
        Action::Accept => "case.accepted",
        Action::SelfHandle => "case.self_handled",
        Action::ApproveSelfHandled => "case.self_handling_approved",
        Action::RejectSelfHandled => "case.self_handling_rejected",
        Action::Escalate => "case.escalated",
        Action::Dispatch => "case.dispatched",
        Action::Return => "case.returned",
        Action::StartWork => "case.started",
        Action::Handle => "case.handled",
        Action::VerifyPass => "case.verified",
        Action::VerifyFail => "case.rework",
        Action::Close => "case.closed",
        Action::Rate => "case.rated",
        Action::Reopen => "case.reopened",
        Action::RequestVoid => "case.void_requested",
        Action::ApproveVoid => "case.voided",
        Action::RejectVoid => "case.void_rejected",
        Action::RequestExtension => "case.extension_requested",
        Action::ApproveExtension => "case.extended",
        Action::RejectExtension => "case.extension_rejected",
        Action::HangUp => "case.hung_up",
        Action::Resume => "case.resumed",
        Action::Urge => "case.urged",
        Action::Merge => "case.merged",
    }
}

/// Every event a webhook may subscribe to.
pub fn event_names() -> Vec<String> {
    std::iter::once("case.reported")
        .chain(Action::ALL.iter().map(|a| event_of(*a)))
        .map(str::to_owned)
        .collect()
}

/// A webhook as admins see it (the secret only when created).
#[derive(Debug, Clone, Serialize)]
pub struct WebhookView {
    pub id: Id,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: Timestamp,
}

impl From<&Webhook> for WebhookView {
    fn from(w: &Webhook) -> Self {
        Self {
            id: w.id,
            name: w.name.clone(),
            url: w.url.clone(),
            events: w.events.clone(),
            active: w.active,
            created_at: w.created_at,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookForm {
    pub name: String,
    pub url: String,
    /// Event names, or `["*"]` for all.
    #[serde(default)]
    pub events: Vec<String>,
}

/// One line of the delivery log.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub job_id: Id,
    pub event: String,
    pub at: Timestamp,
    pub status: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// `queued` (will retry), `done` or `failed`.
    pub delivery_state: String,
    pub attempts: i64,
}

/// What a delivery job carries: the exact bytes to send.
#[derive(Debug, Serialize, Deserialize)]
struct Delivery {
    webhook_id: Id,
    event: String,
    body: String,
}

/// `sha256=<hex>` over `timestamp.body`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

use crate::require_admin;

/// The public facts of a case that an event carries (never the reporter).
pub(crate) fn case_payload(case: &CaseRecord, reference: &Reference) -> serde_json::Value {
    let category = reference
        .categories
        .iter()
        .find(|c| c.id == case.category_id);
    let department = case
        .department_id
        .and_then(|d| reference.departments.iter().find(|x| x.id == d));
    json!({
        "id": case.id,
        "public_code": case.public_code,
        "category": category.map(|c| c.spec.code.as_str()),
        "category_name": category.map(|c| c.spec.name.as_str()),
        "state": case.state,
        "state_label": CaseState::parse(&case.state).map(|s| s.label(wangge_core::Lang::Zh)),
        "level": case.level,
        "grid_id": case.grid_id,
        "department": department.map(|d| d.code.as_str()),
        "department_name": department.map(|d| d.name.as_str()),
        "address": case.address,
        "lat": case.lat,
        "lon": case.lon,
        "urgency": case.urgency,
        "source": case.source,
        "reported_at": case.reported_at,
        "closed_at": case.closed_at,
    })
}

/// Delivery jobs for an event, one per active webhook that wants it.
pub(crate) fn jobs_for(
    reference: &Reference,
    event: &str,
    case: &CaseRecord,
    at: Timestamp,
) -> Vec<NewJob> {
    let wanted: Vec<&Webhook> = reference
        .webhooks
        .iter()
        .filter(|w| w.active && w.events.iter().any(|e| e == "*" || e == event))
        .collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let body =
        json!({ "event": event, "at": at, "case": case_payload(case, reference) }).to_string();
    wanted
        .into_iter()
        .map(|w| NewJob {
            kind: JOB_KIND.into(),
            unique_key: None,
            payload: serde_json::to_string(&Delivery {
                webhook_id: w.id,
                event: event.to_owned(),
                body: body.clone(),
            })
            .unwrap_or_default(),
            run_at: at,
        })
        .collect()
}

impl App {
    pub async fn add_webhook(
        &self,
        actor: &Actor,
        form: WebhookForm,
    ) -> Result<(WebhookView, String), AppError> {
        require_admin(actor)?;
        let name = form.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(AppError::invalid(
                "name",
                "give it a name (up to 100 characters)",
                "请填写名称（不超过 100 字）",
            ));
        }
        let url = form.url.trim().to_owned();
        let valid_url = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() <= 2000
            && url
                .split("://")
                .nth(1)
                .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
            && url.parse::<ureq::http::Uri>().is_ok();
        if !valid_url {
            return Err(AppError::invalid(
                "url",
                "an http:// or https:// address",
                "请填写以 http:// 或 https:// 开头的地址",
            ));
        }
        let known = event_names();
        let events: Vec<String> = if form.events.is_empty() {
            vec!["*".into()]
        } else {
            form.events.iter().map(|e| e.trim().to_owned()).collect()
        };
        if let Some(bad) = events.iter().find(|e| *e != "*" && !known.contains(e)) {
            return Err(AppError::invalid(
                "events",
                format!("unknown event {bad}"),
                format!("没有这个事件类型：{bad}"),
            ));
        }
        let secret = URL_SAFE_NO_PAD
            .encode(random_bytes::<32>().map_err(|e| AppError::Internal(e.to_string()))?);
        let now = self.now();
        let hook = NewWebhook {
            name,
            url,
            // Kept encrypted like ID numbers; decrypted only to sign.
            secret: URL_SAFE_NO_PAD.encode(
                self.vault
                    .encrypt(SECRET_FIELD, &secret)
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            ),
            events,
            at: now,
        };
        let audit = AuditEntry::new(now, Some(actor.user_id), "webhook.add", "webhook")
            .detail(json!({ "url": hook.url, "events": hook.events }));
        let id = self.store.insert_webhook(hook, audit).await?;
        self.forget_reference();
        let view = self
            .store
            .webhooks()
            .await?
            .iter()
            .find(|w| w.id == id)
            .map(WebhookView::from)
            .ok_or(AppError::NotFound(Resource::Webhook))?;
        Ok((view, secret))
    }

    pub async fn webhooks(&self, actor: &Actor) -> Result<Vec<WebhookView>, AppError> {
        require_admin(actor)?;
        Ok(self
            .store
            .webhooks()
            .await?
            .iter()
            .map(WebhookView::from)
            .collect())
    }

    pub async fn set_webhook_active(
        &self,
        actor: &Actor,
        id: Id,
        active: bool,
    ) -> Result<(), AppError> {
        require_admin(actor)?;
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            if active {
                "webhook.enable"
            } else {
                "webhook.disable"
            },
            "webhook",
        )
        .record(id);
        self.store
            .set_webhook_active(id, active, audit)
            .await
            .map_err(|e| match e {
                wangge_store::StoreError::NotFound(_) => AppError::NotFound(Resource::Webhook),
                other => other.into(),
            })?;
        self.forget_reference();
        Ok(())
    }

    /// The delivery log of a webhook, newest first.
    pub async fn webhook_log(&self, actor: &Actor, id: Id) -> Result<Vec<DeliveryView>, AppError> {
        require_admin(actor)?;
        Ok(self
            .store
            .webhook_attempts(id, 200)
            .await?
            .into_iter()
            .map(|r| DeliveryView {
                job_id: r.attempt.job_id,
                event: r.attempt.event,
                at: r.attempt.at,
                status: r.attempt.status,
                error: r.attempt.error,
                duration_ms: r.attempt.duration_ms,
                delivery_state: r.job_state,
                attempts: r.job_attempts,
            })
            .collect())
    }

    /// Sends one delivery; the outcome and the attempt to log.
    pub(crate) async fn deliver(&self, job: &Job) -> (JobOutcome, Option<WebhookAttempt>) {
        let delivery: Delivery = match serde_json::from_str(&job.payload) {
            Ok(d) => d,
            Err(e) => {
                return (
                    JobOutcome::Failed {
                        error: format!("unreadable delivery: {e}"),
                    },
                    None,
                );
            }
        };
        let hook = match self.store.webhooks().await {
            Ok(list) => list.into_iter().find(|w| w.id == delivery.webhook_id),
            Err(e) => {
                return (
                    JobOutcome::Retry {
                        at: self.now() + BACKOFF[0],
                        error: e.to_string(),
                    },
                    None,
                );
            }
        };
        let Some(hook) = hook.filter(|h| h.active) else {
            return (
                JobOutcome::Failed {
                    error: "webhook removed or disabled".into(),
                },
                None,
            );
        };
        let now = self.now();
        let timestamp = now.as_second();
        let secret = URL_SAFE_NO_PAD
            .decode(&hook.secret)
            .ok()
            .and_then(|blob| self.vault.decrypt(SECRET_FIELD, &blob).ok());
        let Some(secret) = secret else {
            return (
                JobOutcome::Failed {
                    error: "the webhook's secret cannot be decrypted with this key".into(),
                },
                None,
            );
        };
        let sig = signature(&secret, timestamp, &delivery.body);
        let url = hook.url.clone();
        let body = delivery.body.clone();
        let event = delivery.event.clone();
        let job_id = job.id;
        let started = Instant::now();
        let answer = tokio::task::spawn_blocking(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(TIMEOUT))
                .http_status_as_error(false)
                .build()
                .into();
            agent
                .post(&url)
                .header("Content-Type", "application/json; charset=utf-8")
                .header("User-Agent", "wangge-webhooks/1")
                .header("X-Wangge-Event", &event)
                .header("X-Wangge-Delivery", job_id.to_string())
                .header("X-Wangge-Timestamp", timestamp.to_string())
                .header("X-Wangge-Signature", &sig)
                .send(body.as_bytes())
                .map(|r| r.status().as_u16())
        })
        .await;
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let (status, error) = match answer {
            Ok(Ok(code)) if (200..300).contains(&code) => (Some(i64::from(code)), None),
            Ok(Ok(code)) => (Some(i64::from(code)), Some(format!("answered {code}"))),
            Ok(Err(e)) => (None, Some(e.to_string())),
            Err(e) => (None, Some(format!("delivery task: {e}"))),
        };
        let attempt = WebhookAttempt {
            webhook_id: hook.id,
            job_id: job.id,
            event: delivery.event,
            at: now,
            status,
            error: error.clone(),
            duration_ms,
        };
        let outcome = match error {
            None => JobOutcome::Done,
            Some(error) => match BACKOFF.get(usize::try_from(job.attempts - 1).unwrap_or(0)) {
                Some(delay) => JobOutcome::Retry {
                    at: now + *delay,
                    error,
                },
                None => JobOutcome::Failed { error },
            },
        };
        (outcome, Some(attempt))
    }
}
