//! Background work, kept as jobs in the database so that several app nodes
//! share it without doing anything twice: a node claims due jobs for a
//! lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), runs them and ends the
//! lease with the outcome. A node that dies mid-job loses its lease and
//! another node takes the job when it runs out.
//!
//! Two kinds: the SLA sweeper (one recurring job, every minute) and
//! webhook deliveries.

use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;
use wangge_core::calendar::Pause;
use wangge_core::sweep::{self, Alert};
use wangge_core::time;
use wangge_core::workflow::{Level, Step};
use wangge_store::{AuditEntry, CaseChange, CaseEvent, Effects, JobOutcome, NewJob, SweepChange};

use crate::App;
use crate::error::AppError;
use crate::inbox::{Audience, Kind, holders_of_level, holders_of_step};

pub const SWEEP_KIND: &str = "sweep";
/// How often the sweeper runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How long an upload may wait for the report or action that names it.
pub const ORPHAN_PHOTO_AGE: Duration = Duration::from_secs(24 * 3600);
const SWEEP_LEASE: Duration = Duration::from_secs(300);
const DELIVERY_LEASE: Duration = Duration::from_secs(60);
const DELIVERIES_PER_ROUND: i64 = 20;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepReport {
    /// Uploads never attached to a report or action, removed after a day.
    pub orphan_photos: u64,
    pub cases: usize,
    pub reminders: usize,
    pub overdue: usize,
    pub escalated: usize,
}

/// What one round of the job runner did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RoundReport {
    pub sweeps: usize,
    pub sweep: SweepReport,
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
}

impl App {
    /// Runs background jobs every `every` as node `worker` until the app is
    /// dropped; queues the sweeper first.
    pub fn spawn_job_runner(
        self: &std::sync::Arc<Self>,
        worker: String,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let app = std::sync::Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut queued = false;
            loop {
                tick.tick().await;
                let Some(app) = app.upgrade() else { break };
                if !queued {
                    match app.ensure_sweeper().await {
                        Ok(()) => queued = true,
                        Err(e) => tracing::warn!(error = %e, "cannot queue the sweeper"),
                    }
                }
                match app.run_due_jobs(&worker).await {
                    Ok(r) if r.sweep.reminders + r.sweep.overdue + r.delivered + r.failed > 0 => {
                        tracing::info!(?r, "background jobs")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "background jobs failed"),
                }
            }
        })
    }

    /// Queues the recurring sweeper unless it is queued already.
    pub async fn ensure_sweeper(&self) -> Result<(), AppError> {
        self.store
            .enqueue_jobs(vec![NewJob {
                kind: SWEEP_KIND.into(),
                unique_key: Some(SWEEP_KIND.into()),
                payload: "{}".into(),
                run_at: self.now(),
            }])
            .await?;
        Ok(())
    }

    /// Runs the jobs that are due, as node `worker`.
    pub async fn run_due_jobs(&self, worker: &str) -> Result<RoundReport, AppError> {
        let mut report = RoundReport::default();
        let now = self.now();
        for job in self
            .store
            .claim_jobs(SWEEP_KIND, worker, now, now + SWEEP_LEASE, 1)
            .await?
        {
            report.sweeps += 1;
            let outcome = match self.sweep().await {
                Ok(r) => {
                    report.sweep = r;
                    JobOutcome::Again {
                        at: self.now() + SWEEP_EVERY,
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "sweep failed");
                    JobOutcome::Again {
                        at: self.now() + SWEEP_EVERY,
                    }
                }
            };
            self.store.finish_job(job.id, worker, outcome, None).await?;
        }
        let now = self.now();
        for job in self
            .store
            .claim_jobs(
                crate::webhooks::JOB_KIND,
                worker,
                now,
                now + DELIVERY_LEASE,
                DELIVERIES_PER_ROUND,
            )
            .await?
        {
            let (outcome, attempt) = self.deliver(&job).await;
            match &outcome {
                JobOutcome::Done => report.delivered += 1,
                JobOutcome::Retry { .. } | JobOutcome::Again { .. } => report.retried += 1,
                JobOutcome::Failed { error } => {
                    tracing::warn!(job = job.id, %error, "webhook delivery given up");
                    report.failed += 1;
                }
            }
            self.store
                .finish_job(job.id, worker, outcome, attempt)
                .await?;
        }
        Ok(report)
    }

    /// Looks at every open case's clocks and raises what is due: reminders,
    /// overdue notices and escalations, each once.
    pub async fn sweep(&self) -> Result<SweepReport, AppError> {
        let reference = self.reference().await?;
        let cal = &reference.calendar;
        let now = self.now();
        let mut report = SweepReport {
            orphan_photos: self
                .store
                .delete_orphan_photos(now - ORPHAN_PHOTO_AGE)
                .await?,
            ..SweepReport::default()
        };
        for case in self.store.sweepable_cases().await? {
            report.cases += 1;
            let Some(category) = reference
                .categories
                .iter()
                .find(|c| c.id == case.category_id)
            else {
                continue;
            };
            let facts = Self::facts(&case)?;
            let pauses: Vec<Pause> = self
                .store
                .case_pauses(case.id)
                .await?
                .into_iter()
                .map(|(from, to)| Pause { from, to })
                .collect();
            let step = case.step.as_deref().and_then(crate::cases::parse_step);
            let step_light = match (step, case.step_started_at) {
                (Some(s), Some(start)) => category
                    .spec
                    .steps
                    .of(s)
                    .map(|limit| (s, limit.light(cal, start, &pauses, now))),
                _ => None,
            };
            let overall = crate::cases::extended(category.spec.overall, case.extra_hours, cal)
                .light(cal, case.clock_start, &pauses, now);
            let started = case.step_started_at.map(time::to_micros).unwrap_or(0);
            for alert in sweep::alerts(step_light, overall) {
                let key = alert.key(started, time::to_micros(case.clock_start));
                let escalate_to = sweep::escalation(alert, facts);
                let (kind, mut audiences, gist): (Kind, Vec<Audience>, String) = match alert {
                    Alert::Reminder(s) => (
                        Kind::Reminder,
                        holders_of_step(s, facts.level),
                        format!("{}即将超时，请抓紧办理", step_label(s)),
                    ),
                    Alert::StepOverdue(s) => {
                        let mut who = holders_of_step(s, facts.level);
                        who.push(Audience::Scoped(
                            wangge_core::policy::Role::CommunitySecretary,
                        ));
                        (Kind::Overdue, who, format!("{}已超时", step_label(s)))
                    }
                    Alert::CaseOverdue => (
                        Kind::Overdue,
                        vec![Audience::Scoped(
                            wangge_core::policy::Role::CommunitySecretary,
                        )],
                        "办理总时限已超时".to_owned(),
                    ),
                };
                let mut escalation = None;
                let mut gist = gist;
                if let Some(level) = escalate_to {
                    audiences.extend(holders_of_level(level));
                    gist.push_str(&format!(
                        "，已自动上报至{}",
                        level.label(wangge_core::Lang::Zh)
                    ));
                    escalation = Some(escalate(&case, level, now));
                }
                let notifications = self
                    .notify(&case, kind, &audiences, None, &gist, now)
                    .await?;
                let new = self
                    .store
                    .raise_alert(
                        case.id,
                        key,
                        now,
                        Effects {
                            notifications,
                            jobs: Vec::new(),
                        },
                        escalation,
                    )
                    .await?;
                if new {
                    match alert {
                        Alert::Reminder(_) => report.reminders += 1,
                        _ => report.overdue += 1,
                    }
                    if escalate_to.is_some() {
                        report.escalated += 1;
                    }
                }
            }
        }
        Ok(report)
    }
}

fn step_label(s: Step) -> &'static str {
    match s {
        Step::Acceptance => "立案环节",
        Step::Dispatch => "派遣环节",
        Step::Handling => "处置环节",
        Step::Verification => "核查环节",
        Step::Closing => "结案环节",
    }
}

/// The system's escalation of an overdue case to `level`.
fn escalate(case: &wangge_store::CaseRecord, level: Level, now: Timestamp) -> SweepChange {
    let change = CaseChange {
        level: level.as_str().into(),
        ..CaseChange::from(case)
    };
    let note = format!(
        "超时未办，系统自动上报至{}",
        level.label(wangge_core::Lang::Zh)
    );
    SweepChange {
        version: case.version,
        change,
        event: CaseEvent {
            at: now,
            action: "escalate".into(),
            from_state: Some(case.state.clone()),
            to_state: case.state.clone(),
            visibility: "internal".into(),
            note,
            ..CaseEvent::default()
        },
        audit: AuditEntry::new(now, None, "case.escalate", "case")
            .record(case.id)
            .detail(json!({ "by": "sweeper", "to": level.as_str() })),
    }
}
