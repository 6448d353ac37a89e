//! The in-app inbox: who is told what when a case moves, and reading it.
//!
//! Messages are written in the same transaction as the action that causes
//! them (see [`wangge_store::Effects`]), so an action is never saved
//! without its messages, nor a message without its action.

use std::collections::{BTreeSet, HashMap};

use jiff::Timestamp;
use serde::Serialize;
use wangge_core::i18n::Lang;
use wangge_core::org::Id;
use wangge_core::policy::{Actor, Role};
use wangge_core::workflow::{Action, Level, Step};
use wangge_store::{CaseRecord, NewNotification, ScopeKind, UserRecord};

use crate::App;
use crate::error::AppError;

/// Who is to be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Users of this role whose org scope holds the case's grid.
    Scoped(Role),
    /// Staff of the department the case is dispatched to.
    Department,
    /// The case's reporter.
    Reporter,
}

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Dispatched,
    Escalated,
    Returned,
    VerificationDue,
    Approval,
    Rework,
    Urged,
    Reopened,
    Closed,
    Merged,
    Reminder,
    Overdue,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dispatched => "dispatched",
            Kind::Escalated => "escalated",
            Kind::Returned => "returned",
            Kind::VerificationDue => "verification_due",
            Kind::Approval => "approval",
            Kind::Rework => "rework",
            Kind::Urged => "urged",
            Kind::Reopened => "reopened",
            Kind::Closed => "closed",
            Kind::Merged => "merged",
            Kind::Reminder => "reminder",
            Kind::Overdue => "overdue",
        }
    }

    pub fn label(kind: &str, lang: Lang) -> &'static str {
        match (kind, lang) {
            ("dispatched", Lang::Zh) => "新派遣",
            ("dispatched", Lang::En) => "new dispatch",
            ("escalated", Lang::Zh) => "上报待处理",
            ("escalated", Lang::En) => "escalated to you",
            ("returned", Lang::Zh) => "部门回退",
            ("returned", Lang::En) => "returned",
            ("verification_due", Lang::Zh) => "待核查",
            ("verification_due", Lang::En) => "verification due",
            ("approval", Lang::Zh) => "待审批",
            ("approval", Lang::En) => "approval needed",
            ("rework", Lang::Zh) => "返工",
            ("rework", Lang::En) => "rework",
            ("urged", Lang::Zh) => "督办",
            ("urged", Lang::En) => "urged",
            ("reopened", Lang::Zh) => "重开",
            ("reopened", Lang::En) => "reopened",
            ("closed", Lang::Zh) => "已结案",
            ("closed", Lang::En) => "closed",
            ("merged", Lang::Zh) => "已并案",
            ("merged", Lang::En) => "merged",
            ("reminder", Lang::Zh) => "即将超时",
            ("reminder", Lang::En) => "due soon",
            ("overdue", Lang::Zh) => "已超时",
            ("overdue", Lang::En) => "overdue",
            (_, Lang::Zh) => "通知",
            (_, Lang::En) => "notice",
        }
    }
}

/// Who is told what after an action, and the gist of it.
pub(crate) fn after_action(
    action: Action,
    level: Level,
) -> Option<(Kind, Vec<Audience>, &'static str)> {
    use Audience::{Department, Reporter, Scoped};
    Some(match action {
        Action::Dispatch => (
            Kind::Dispatched,
            vec![Department],
            "已派遣至本部门，请签收处置",
        ),
        Action::Escalate => (
            Kind::Escalated,
            holders_of_level(level),
            "已上报，请立案或派遣",
        ),
        Action::Return => (
            Kind::Returned,
            vec![Scoped(Role::GridLeader), Scoped(Role::CommunitySecretary)],
            "被职能部门回退，请重新派遣",
        ),
        Action::Handle => (
            Kind::VerificationDue,
            vec![Scoped(Role::GridWorker)],
            "部门已反馈处置结果，请现场核查",
        ),
        Action::SelfHandle => (
            Kind::Approval,
            vec![Scoped(Role::GridLeader)],
            "网格员已自行处置，请审核",
        ),
        Action::RequestVoid | Action::RequestExtension => (
            Kind::Approval,
            vec![Scoped(Role::CommunitySecretary)],
            "有申请等待审批",
        ),
        Action::VerifyFail => (Kind::Rework, vec![Department], "核查未通过，请返工"),
        Action::Urge => (
            Kind::Urged,
            vec![Department, Scoped(Role::GridLeader)],
            "被督办，请加快办理",
        ),
        Action::Reopen => (Kind::Reopened, vec![Department], "已重开，请重新处置"),
        Action::Close | Action::ApproveSelfHandled => {
            (Kind::Closed, vec![Reporter], "已办结，欢迎评价")
        }
        Action::Merge => (
            Kind::Merged,
            vec![Reporter],
            "与同一问题的事件合并办理，进度请看合并后的事件",
        ),
        _ => return None,
    })
}

/// Who holds a case waiting for acceptance or dispatch at a level.
pub(crate) fn holders_of_level(level: Level) -> Vec<Audience> {
    vec![Audience::Scoped(match level {
        Level::Grid | Level::GridLeader => Role::GridLeader,
        Level::Community => Role::CommunitySecretary,
        Level::Street => Role::StreetOfficer,
    })]
}

/// Who holds a case in a step.
pub(crate) fn holders_of_step(step: Step, level: Level) -> Vec<Audience> {
    match step {
        Step::Acceptance | Step::Dispatch => holders_of_level(level),
        Step::Handling => vec![Audience::Department],
        Step::Verification => vec![
            Audience::Scoped(Role::GridWorker),
            Audience::Scoped(Role::GridLeader),
        ],
        Step::Closing => vec![
            Audience::Scoped(Role::GridLeader),
            Audience::Scoped(Role::CommunitySecretary),
        ],
    }
}

/// A message as the inbox shows it.
#[derive(Debug, Clone, Serialize)]
pub struct InboxItem {
    pub id: Id,
    pub kind: String,
    pub kind_label: String,
    pub case_id: Option<Id>,
    pub at: Timestamp,
    pub message: String,
    pub read: bool,
}

impl App {
    /// The users (other than `except`) an audience names for a case.
    pub(crate) async fn recipients(
        &self,
        case: &CaseRecord,
        audiences: &[Audience],
        except: Option<Id>,
    ) -> Result<Vec<Id>, AppError> {
        if audiences.is_empty() {
            return Ok(Vec::new());
        }
        let users = self.store.users().await?;
        let grid = match case.grid_id {
            Some(g) => self.store.grid(g).await?,
            None => None,
        };
        // Grids of each street a candidate works in, looked up once.
        let mut street_grids: HashMap<Id, Vec<Id>> = HashMap::new();
        let mut out = BTreeSet::new();
        for u in users.iter().filter(|u| !u.disabled) {
            let Some(role) = Role::parse(&u.role) else {
                continue;
            };
            for a in audiences {
                let hit = match a {
                    Audience::Reporter => case.reporter_id == Some(u.id),
                    Audience::Department => {
                        role == Role::DepartmentStaff
                            && case
                                .department_id
                                .is_some_and(|d| u.scopes.contains(&(ScopeKind::Department, d)))
                    }
                    Audience::Scoped(r) => {
                        *r == role
                            && match &grid {
                                Some(g) => {
                                    self.holds_grid(
                                        u,
                                        g.grid.id,
                                        g.grid.community_id,
                                        &mut street_grids,
                                    )
                                    .await?
                                }
                                None => false,
                            }
                    }
                };
                if hit && Some(u.id) != except {
                    out.insert(u.id);
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    async fn holds_grid(
        &self,
        u: &UserRecord,
        grid: Id,
        community: Id,
        street_grids: &mut HashMap<Id, Vec<Id>>,
    ) -> Result<bool, AppError> {
        for (kind, id) in &u.scopes {
            match kind {
                ScopeKind::Grid if *id == grid => return Ok(true),
                ScopeKind::Community if *id == community => return Ok(true),
                ScopeKind::Street => {
                    if !street_grids.contains_key(id) {
                        let grids = self.grids_in_units(&[], &[], &[*id]).await?;
                        street_grids.insert(*id, grids.to_vec());
                    }
                    if street_grids.get(id).is_some_and(|g| g.contains(&grid)) {
                        return Ok(true);
                    }
                }
                _ => {}
            }
        }
        Ok(false)
    }

    /// Messages for the audiences of a case.
    pub(crate) async fn notify(
        &self,
        case: &CaseRecord,
        kind: Kind,
        audiences: &[Audience],
        except: Option<Id>,
        gist: &str,
        at: Timestamp,
    ) -> Result<Vec<NewNotification>, AppError> {
        let reference = self.reference().await?;
        let category = reference
            .categories
            .iter()
            .find(|c| c.id == case.category_id)
            .map(|c| c.spec.name.as_str())
            .unwrap_or("");
        let place = if case.address.is_empty() {
            String::new()
        } else {
            format!("，{}", case.address)
        };
        let message = format!("事件 #{}（{category}{place}）{gist}", case.id);
        Ok(self
            .recipients(case, audiences, except)
            .await?
            .into_iter()
            .map(|user_id| NewNotification {
                user_id,
                case_id: Some(case.id),
                kind: kind.as_str().into(),
                at,
                message: message.clone(),
            })
            .collect())
    }

    /// The actor's inbox, newest first.
    pub async fn inbox(
        &self,
        actor: &Actor,
        unread_only: bool,
        lang: Lang,
    ) -> Result<Vec<InboxItem>, AppError> {
        Ok(self
            .store
            .notifications(actor.user_id, unread_only, 200)
            .await?
            .into_iter()
            .map(|n| InboxItem {
                id: n.id,
                kind_label: Kind::label(&n.kind, lang).into(),
                kind: n.kind,
                case_id: n.case_id,
                at: n.at,
                message: n.message,
                read: n.read_at.is_some(),
            })
            .collect())
    }

    pub async fn unread_count(&self, actor: &Actor) -> Result<i64, AppError> {
        Ok(self.store.unread_notifications(actor.user_id).await?)
    }

    /// Marks one message (or all, with `None`) read; how many changed.
    pub async fn mark_read(&self, actor: &Actor, id: Option<Id>) -> Result<u64, AppError> {
        Ok(self
            .store
            .mark_notifications_read(actor.user_id, id, self.now())
            .await?)
    }
}
