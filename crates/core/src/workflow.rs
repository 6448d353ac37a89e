//! The case workflow: states, actions, who may take each action from which
//! states, and what each does to the clock and the timeline.
//!
//! ```text
//! reported ─accept→ accepted ─dispatch→ dispatched ─start→ in progress ─handle→ handled
//!    │                 ↑  ↑                 │ return ↑                            │ verify
//!    │ self-handle     │  └─────────────────┘        └──────── rework ────────────┤
//!    ↓                 │ reject                                                   ↓
//! self-handled ─approve→ closed ←─close── verified ←───────────── pass ───────────┘
//!                         │  ↓ rate
//!                         │ rated
//!                         └─ reopen → dispatched (clock restarts)
//! ```
//! Side paths: merge of a duplicate into the case it repeats (by the
//! leaders, before dispatch), void (requested, approved by the community), extension
//! (requested by the department, approved by the community), hang-up and
//! resume (the clock stops), escalation up grid worker → grid leader →
//! community → street, urging. The table in [`rule`] is the whole truth; an
//! action outside it is refused with a reason.

use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::policy::Role;

macro_rules! labelled {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal / $zh:literal / $en:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $($name::$variant => $text),+ } }
            pub fn parse(s: &str) -> Option<Self> { match s { $($text => Some($name::$variant),)+ _ => None } }
            pub fn label(self, lang: Lang) -> &'static str {
                match (self, lang) { $(($name::$variant, Lang::Zh) => $zh, ($name::$variant, Lang::En) => $en,)+ }
            }
        }
    };
}

labelled!(
    /// Where a case stands.
    CaseState {
        Reported = "reported" / "上报" / "reported",
        Accepted = "accepted" / "立案" / "accepted",
        Dispatched = "dispatched" / "派遣" / "dispatched",
        InProgress = "in_progress" / "处置中" / "in progress",
        Handled = "handled" / "处置反馈" / "handled",
        Verified = "verified" / "核查通过" / "verified",
        Closed = "closed" / "结案" / "closed",
        Rated = "rated" / "已评价" / "rated",
        SelfHandled = "self_handled" / "自处理待审核" / "handled on the spot",
        HungUp = "hung_up" / "挂账" / "on hold",
        Voided = "voided" / "作废" / "voided",
        Merged = "merged" / "已并案" / "merged into another case",
    }
);

labelled!(
    /// What someone does to a case.
    Action {
        Accept = "accept" / "立案" / "accept",
        SelfHandle = "self_handle" / "自处理" / "handle on the spot",
        ApproveSelfHandled = "approve_self_handled" / "审核通过自处理" / "approve on-the-spot handling",
        RejectSelfHandled = "reject_self_handled" / "退回自处理" / "reject on-the-spot handling",
        Escalate = "escalate" / "上报上级" / "escalate",
        Dispatch = "dispatch" / "派遣" / "dispatch",
        Return = "return" / "回退" / "return",
        StartWork = "start_work" / "签收处置" / "start work",
        Handle = "handle" / "处置反馈" / "report handled",
        VerifyPass = "verify_pass" / "核查通过" / "verify",
        VerifyFail = "verify_fail" / "核查不通过（返工）" / "send back for rework",
        Close = "close" / "结案" / "close",
        Rate = "rate" / "评价" / "rate",
        Reopen = "reopen" / "重开" / "reopen",
        RequestVoid = "request_void" / "申请作废" / "request void",
        ApproveVoid = "approve_void" / "批准作废" / "approve void",
        RejectVoid = "reject_void" / "驳回作废" / "reject void",
        RequestExtension = "request_extension" / "申请延时" / "request extension",
        ApproveExtension = "approve_extension" / "批准延时" / "approve extension",
        RejectExtension = "reject_extension" / "驳回延时" / "reject extension",
        HangUp = "hang_up" / "挂账" / "put on hold",
        Resume = "resume" / "恢复处置" / "resume",
        Urge = "urge" / "督办" / "urge",
        Merge = "merge" / "并案" / "merge into another case",
    }
);

labelled!(
    /// Who currently holds an escalated case (上报 up the ladder).
    Level {
        Grid = "grid" / "网格" / "grid",
        GridLeader = "grid_leader" / "网格长" / "grid leader",
        Community = "community" / "社区" / "community",
        Street = "street" / "街道" / "street",
    }
);

/// A request waiting for approval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pending {
    Void,
    Extension,
}

/// How the actor stands to this case (worked out from scope by the app).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    /// The case's grid is in the actor's org scope.
    pub in_scope: bool,
    /// The actor reported the case.
    pub reporter: bool,
    /// The case is dispatched to the actor's department.
    pub department: bool,
}

/// A case's workflow facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts {
    pub state: CaseState,
    pub pending: Option<Pending>,
    pub level: Level,
    /// Where a hung-up case resumes.
    pub resume_to: Option<CaseState>,
}

impl CaseFacts {
    pub fn new() -> Self {
        Self {
            state: CaseState::Reported,
            pending: None,
            level: Level::Grid,
            resume_to: None,
        }
    }
}

impl Default for CaseFacts {
    fn default() -> Self {
        Self::new()
    }
}

/// The steps the clock times separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Acceptance,
    Dispatch,
    Handling,
    Verification,
    Closing,
}

/// What an action does to the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockEffect {
    Keep,
    /// The current step ends and this one starts.
    Step(Step),
    Pause,
    Resume,
    /// The case is done: every clock stops.
    Stop,
    /// Reopened: the overall clock starts again, with this step.
    Restart(Step),
    /// An approved extension: the app sets the new deadline.
    Extend,
}

/// Who sees a timeline entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Staff only.
    Internal,
    /// Also the reporter and the public case page.
    Public,
}

/// The result of an allowed action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub facts: CaseFacts,
    pub clock: ClockEffect,
    pub visibility: Visibility,
    /// A failed verification: counts against accurate dispatch.
    pub rework: bool,
}

/// Why an action was refused; answered as 409 with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("cannot {} a case that is {}", .action.label(Lang::En), .state.label(Lang::En))]
    WrongState { action: Action, state: CaseState },
    #[error("your role may not {} this case", .action.label(Lang::En))]
    NotYours { action: Action },
    #[error("a {} request is already waiting for approval", match .0 { Pending::Void => "void", Pending::Extension => "extension" })]
    AlreadyPending(Pending),
    #[error("there is no request to decide")]
    NothingPending,
    #[error("the case is already held at the highest level for your role")]
    CannotEscalate,
}

impl crate::i18n::Localized for Refusal {
    fn localized(&self, lang: Lang) -> String {
        match (lang, self) {
            (Lang::En, r) => r.to_string(),
            (Lang::Zh, Refusal::WrongState { action, state }) => {
                format!(
                    "事件当前为“{}”，不能{}",
                    state.label(Lang::Zh),
                    action.label(Lang::Zh)
                )
            }
            (Lang::Zh, Refusal::NotYours { action }) => {
                format!("您的角色不能对此事件执行“{}”", action.label(Lang::Zh))
            }
            (Lang::Zh, Refusal::AlreadyPending(Pending::Void)) => "已有作废申请等待审批".to_owned(),
            (Lang::Zh, Refusal::AlreadyPending(Pending::Extension)) => {
                "已有延时申请等待审批".to_owned()
            }
            (Lang::Zh, Refusal::NothingPending) => "没有待审批的申请".to_owned(),
            (Lang::Zh, Refusal::CannotEscalate) => "该事件已由您的上级处理，不能再上报".to_owned(),
        }
    }
}

/// Who may act: a role, and how it must stand to the case.
#[derive(Debug, Clone, Copy)]
enum Who {
    /// The role, for a case in its org scope.
    Scoped(Role),
    /// Department staff of the department the case is dispatched to.
    Department,
    /// Whoever reported it: a resident, or a grid worker on her rounds.
    Reporter,
}

impl Who {
    fn admits(self, role: Role, s: Standing) -> bool {
        match self {
            Who::Scoped(r) => r == role && s.in_scope,
            Who::Department => role == Role::DepartmentStaff && s.department,
            Who::Reporter => s.reporter,
        }
    }
}

use CaseState as S;
use Who::{Department, Reporter, Scoped};

const LEADERS: [Who; 3] = [
    Scoped(Role::GridLeader),
    Scoped(Role::CommunitySecretary),
    Scoped(Role::StreetOfficer),
];
const OPEN: [CaseState; 8] = [
    S::Reported,
    S::Accepted,
    S::Dispatched,
    S::InProgress,
    S::Handled,
    S::Verified,
    S::SelfHandled,
    S::HungUp,
];

/// The rule of an action: from which states, by whom.
fn rule(action: Action) -> (&'static [CaseState], &'static [Who]) {
    match action {
        Action::Accept => (&[S::Reported], &LEADERS),
        Action::SelfHandle => (&[S::Reported], &[Scoped(Role::GridWorker)]),
        Action::ApproveSelfHandled | Action::RejectSelfHandled => (
            &[S::SelfHandled],
            &[Scoped(Role::GridLeader), Scoped(Role::CommunitySecretary)],
        ),
        Action::Escalate => (
            &[S::Reported, S::Accepted],
            &[
                Scoped(Role::GridWorker),
                Scoped(Role::GridLeader),
                Scoped(Role::CommunitySecretary),
            ],
        ),
        Action::Dispatch => (&[S::Accepted], &LEADERS),
        Action::Return => (&[S::Dispatched, S::InProgress], &[Department]),
        Action::StartWork => (&[S::Dispatched], &[Department]),
        Action::Handle => (&[S::Dispatched, S::InProgress], &[Department]),
        Action::VerifyPass | Action::VerifyFail => (
            &[S::Handled],
            &[Scoped(Role::GridWorker), Scoped(Role::GridLeader)],
        ),
        Action::Close => (
            &[S::Verified],
            &[Scoped(Role::GridLeader), Scoped(Role::CommunitySecretary)],
        ),
        Action::Rate => (&[S::Closed], &[Reporter]),
        Action::Reopen => (
            &[S::Closed, S::Rated],
            &[Reporter, Scoped(Role::GridWorker)],
        ),
        Action::RequestVoid => (
            &[S::Reported, S::Accepted],
            &[Scoped(Role::GridWorker), Scoped(Role::GridLeader)],
        ),
        Action::ApproveVoid | Action::RejectVoid => (
            &[S::Reported, S::Accepted],
            &[Scoped(Role::CommunitySecretary)],
        ),
        Action::RequestExtension => (&[S::Dispatched, S::InProgress], &[Department]),
        Action::ApproveExtension | Action::RejectExtension => (
            &[S::Dispatched, S::InProgress],
            &[Scoped(Role::CommunitySecretary)],
        ),
        Action::HangUp => (
            &[S::Accepted, S::Dispatched, S::InProgress],
            &[Scoped(Role::CommunitySecretary)],
        ),
        Action::Resume => (&[S::HungUp], &[Scoped(Role::CommunitySecretary)]),
        Action::Merge => (&[S::Reported, S::Accepted], &LEADERS),
        Action::Urge => (
            &OPEN,
            &[
                Scoped(Role::StreetOfficer),
                Scoped(Role::CommunitySecretary),
            ],
        ),
    }
}

/// What happens next to a case in this state, as its reporter is told:
/// `(zh, en)`. The holder is named by the caller where known.
pub fn next_step(state: CaseState) -> (&'static str, &'static str) {
    match state {
        S::Reported => (
            "等待网格长受理立案",
            "waiting to be accepted by the grid leader",
        ),
        S::Accepted => (
            "等待派遣至职能部门",
            "waiting to be dispatched to a department",
        ),
        S::Dispatched => (
            "等待职能部门签收处置",
            "waiting for the department to take it on",
        ),
        S::InProgress => ("职能部门正在处置", "the department is working on it"),
        S::Handled => (
            "等待网格员现场核查",
            "waiting for the grid worker to check it on site",
        ),
        S::Verified => ("核查通过，等待结案", "checked; waiting to be closed"),
        S::Closed => ("已办结，欢迎评价", "done; please rate how it was handled"),
        S::Rated => ("已办结并评价", "done and rated"),
        S::SelfHandled => (
            "网格员已现场处置，等待审核",
            "handled on the spot; waiting for review",
        ),
        S::HungUp => (
            "暂缓办理，到复查日期后继续",
            "on hold until its review date",
        ),
        S::Voided => ("已作废", "voided"),
        S::Merged => (
            "与同一问题的事件合并办理",
            "merged with a case about the same problem",
        ),
    }
}

/// The state as Open311 clients see it: GeoReport's `open` or `closed`,
/// and mySociety's extended status for the update feed.
pub fn open311_status(state: CaseState) -> (&'static str, &'static str) {
    match state {
        S::Reported => ("open", "OPEN"),
        S::Accepted => ("open", "INVESTIGATING"),
        S::Dispatched | S::HungUp => ("open", "ACTION_SCHEDULED"),
        S::InProgress | S::Handled | S::Verified | S::SelfHandled => ("open", "IN_PROGRESS"),
        S::Closed | S::Rated => ("closed", "FIXED"),
        S::Voided => ("closed", "CLOSED"),
        S::Merged => ("closed", "DUPLICATE"),
    }
}

/// Actions that must carry a photo of the result: handling on the spot
/// and a department's report that it is handled (the after-photo).
pub fn needs_photo(action: Action) -> bool {
    matches!(action, Action::SelfHandle | Action::Handle)
}

/// Actions that must say why.
pub fn needs_note(action: Action) -> bool {
    matches!(
        action,
        Action::Return
            | Action::VerifyFail
            | Action::RequestVoid
            | Action::HangUp
            | Action::Urge
            | Action::Reopen
            | Action::RejectSelfHandled
            | Action::Merge
    )
}

/// The level a role holds escalated cases at.
fn level_of(role: Role) -> Option<Level> {
    match role {
        Role::GridWorker => Some(Level::Grid),
        Role::GridLeader => Some(Level::GridLeader),
        Role::CommunitySecretary => Some(Level::Community),
        Role::StreetOfficer => Some(Level::Street),
        _ => None,
    }
}

fn next_level(l: Level) -> Option<Level> {
    match l {
        Level::Grid => Some(Level::GridLeader),
        Level::GridLeader => Some(Level::Community),
        Level::Community => Some(Level::Street),
        Level::Street => None,
    }
}

/// Decides an action: the new facts and effects, or why not.
pub fn apply(
    facts: CaseFacts,
    action: Action,
    role: Role,
    standing: Standing,
) -> Result<Outcome, Refusal> {
    let (from, who) = rule(action);
    if !from.contains(&facts.state) {
        return Err(Refusal::WrongState {
            action,
            state: facts.state,
        });
    }
    if !who.iter().any(|w| w.admits(role, standing)) {
        return Err(Refusal::NotYours { action });
    }
    let mut next = facts;
    let mut clock = ClockEffect::Keep;
    let mut visibility = Visibility::Public;
    let mut rework = false;
    match action {
        Action::Accept => {
            next.state = S::Accepted;
            clock = ClockEffect::Step(Step::Dispatch);
        }
        Action::SelfHandle => {
            next.state = S::SelfHandled;
            clock = ClockEffect::Step(Step::Verification);
        }
        Action::ApproveSelfHandled => {
            next.state = S::Closed;
            clock = ClockEffect::Stop;
        }
        Action::RejectSelfHandled => {
            next.state = S::Accepted;
            clock = ClockEffect::Step(Step::Dispatch);
            visibility = Visibility::Internal;
        }
        Action::Escalate => {
            let own = level_of(role).ok_or(Refusal::NotYours { action })?;
            if facts.level > own {
                return Err(Refusal::CannotEscalate);
            }
            next.level = next_level(own).ok_or(Refusal::CannotEscalate)?;
            visibility = Visibility::Internal;
        }
        Action::Dispatch => {
            next.state = S::Dispatched;
            clock = ClockEffect::Step(Step::Handling);
        }
        Action::Return => {
            next.state = S::Accepted;
            next.pending = None;
            clock = ClockEffect::Step(Step::Dispatch);
            visibility = Visibility::Internal;
        }
        Action::StartWork => next.state = S::InProgress,
        Action::Handle => {
            next.state = S::Handled;
            next.pending = None;
            clock = ClockEffect::Step(Step::Verification);
        }
        Action::VerifyPass => {
            next.state = S::Verified;
            clock = ClockEffect::Step(Step::Closing);
        }
        Action::VerifyFail => {
            next.state = S::Dispatched;
            clock = ClockEffect::Step(Step::Handling);
            rework = true;
        }
        Action::Close => {
            next.state = S::Closed;
            clock = ClockEffect::Stop;
        }
        Action::Rate => next.state = S::Rated,
        Action::Reopen => {
            next.state = S::Dispatched;
            clock = ClockEffect::Restart(Step::Handling);
        }
        Action::RequestVoid | Action::RequestExtension => {
            if let Some(p) = facts.pending {
                return Err(Refusal::AlreadyPending(p));
            }
            next.pending = Some(if action == Action::RequestVoid {
                Pending::Void
            } else {
                Pending::Extension
            });
            visibility = Visibility::Internal;
        }
        Action::ApproveVoid | Action::RejectVoid => {
            if facts.pending != Some(Pending::Void) {
                return Err(Refusal::NothingPending);
            }
            next.pending = None;
            if action == Action::ApproveVoid {
                next.state = S::Voided;
                clock = ClockEffect::Stop;
            } else {
                visibility = Visibility::Internal;
            }
        }
        Action::ApproveExtension | Action::RejectExtension => {
            if facts.pending != Some(Pending::Extension) {
                return Err(Refusal::NothingPending);
            }
            next.pending = None;
            visibility = Visibility::Internal;
            if action == Action::ApproveExtension {
                clock = ClockEffect::Extend;
            }
        }
        Action::HangUp => {
            next.resume_to = Some(facts.state);
            next.state = S::HungUp;
            clock = ClockEffect::Pause;
        }
        Action::Resume => {
            next.state = facts.resume_to.unwrap_or(S::Accepted);
            next.resume_to = None;
            clock = ClockEffect::Resume;
        }
        Action::Urge => visibility = Visibility::Internal,
        Action::Merge => {
            next.state = S::Merged;
            next.pending = None;
            clock = ClockEffect::Stop;
        }
    }
    Ok(Outcome {
        facts: next,
        clock,
        visibility,
        rework,
    })
}

impl PartialOrd for Level {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Level {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let rank = |l: &Level| Level::ALL.iter().position(|x| x == l);
        rank(self).cmp(&rank(other))
    }
}
