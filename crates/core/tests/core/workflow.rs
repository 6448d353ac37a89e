//! The case state machine, exhaustively: every state × action × role ×
//! standing against a table written out here, plus the story's paths.

use wangge_core::i18n::{Lang, Localized};
use wangge_core::policy::Role;
use wangge_core::workflow::{
    Action, CaseFacts, CaseState, ClockEffect, Level, Pending, Refusal, Standing, Step, Visibility,
    apply,
};

/// How an allowed actor stands to the case.
#[derive(Clone, Copy, PartialEq)]
enum By {
    Scope(&'static [&'static str]),
    Department,
    Reporter,
    ReporterOrScope(&'static [&'static str]),
}

const LEADERS: &[&str] = &["grid_leader", "community_secretary", "street_officer"];

/// (action, from states, who): written from PRODUCT.md §4, independently of the code.
const TABLE: &[(&str, &[&str], By)] = &[
    ("accept", &["reported"], By::Scope(LEADERS)),
    ("self_handle", &["reported"], By::Scope(&["grid_worker"])),
    (
        "approve_self_handled",
        &["self_handled"],
        By::Scope(&["grid_leader", "community_secretary"]),
    ),
    (
        "reject_self_handled",
        &["self_handled"],
        By::Scope(&["grid_leader", "community_secretary"]),
    ),
    (
        "escalate",
        &["reported", "accepted"],
        By::Scope(&["grid_worker", "grid_leader", "community_secretary"]),
    ),
    ("dispatch", &["accepted"], By::Scope(LEADERS)),
    ("return", &["dispatched", "in_progress"], By::Department),
    ("start_work", &["dispatched"], By::Department),
    ("handle", &["dispatched", "in_progress"], By::Department),
    (
        "verify_pass",
        &["handled"],
        By::Scope(&["grid_worker", "grid_leader"]),
    ),
    (
        "verify_fail",
        &["handled"],
        By::Scope(&["grid_worker", "grid_leader"]),
    ),
    (
        "close",
        &["verified"],
        By::Scope(&["grid_leader", "community_secretary"]),
    ),
    ("rate", &["closed"], By::Reporter),
    (
        "reopen",
        &["closed", "rated"],
        By::ReporterOrScope(&["grid_worker"]),
    ),
    (
        "request_void",
        &["reported", "accepted"],
        By::Scope(&["grid_worker", "grid_leader"]),
    ),
    (
        "request_extension",
        &["dispatched", "in_progress"],
        By::Department,
    ),
    (
        "hang_up",
        &["accepted", "dispatched", "in_progress"],
        By::Scope(&["community_secretary"]),
    ),
    ("resume", &["hung_up"], By::Scope(&["community_secretary"])),
    ("merge", &["reported", "accepted"], By::Scope(LEADERS)),
    (
        "urge",
        &[
            "reported",
            "accepted",
            "dispatched",
            "in_progress",
            "handled",
            "verified",
            "self_handled",
            "hung_up",
        ],
        By::Scope(&["street_officer", "community_secretary"]),
    ),
];

/// Approvals need a pending request; tested separately below.
const NEEDS_PENDING: &[&str] = &[
    "approve_void",
    "reject_void",
    "approve_extension",
    "reject_extension",
];

fn standings() -> Vec<Standing> {
    let mut all = Vec::new();
    for in_scope in [false, true] {
        for reporter in [false, true] {
            for department in [false, true] {
                all.push(Standing {
                    in_scope,
                    reporter,
                    department,
                });
            }
        }
    }
    all
}

fn expected(action: Action, state: CaseState, role: Role, s: Standing) -> bool {
    let Some((_, states, by)) = TABLE.iter().find(|(a, _, _)| *a == action.as_str()) else {
        return false;
    };
    if !states.contains(&state.as_str()) {
        return false;
    }
    let scoped = |roles: &[&str]| s.in_scope && roles.contains(&role.as_str());
    match by {
        By::Scope(roles) => scoped(roles),
        By::Department => role == Role::DepartmentStaff && s.department,
        // Whoever filed it: a resident, or a grid worker on her rounds.
        By::Reporter => s.reporter,
        By::ReporterOrScope(roles) => s.reporter || scoped(roles),
    }
}

fn facts(state: CaseState) -> CaseFacts {
    CaseFacts {
        state,
        pending: None,
        level: Level::Grid,
        resume_to: (state == CaseState::HungUp).then_some(CaseState::Dispatched),
    }
}

#[test]
fn every_state_action_role_and_standing_matches_the_table() {
    let mut allowed = 0;
    let mut checked = 0;
    for &state in CaseState::ALL {
        for &action in Action::ALL {
            for &role in Role::ALL {
                for s in standings() {
                    checked += 1;
                    let got = apply(facts(state), action, role, s);
                    if NEEDS_PENDING.contains(&action.as_str()) {
                        assert!(got.is_err(), "{action:?} with nothing pending");
                        continue;
                    }
                    let want = expected(action, state, role, s);
                    assert_eq!(
                        got.is_ok(),
                        want,
                        "{action:?} from {state:?} by {role:?} {s:?}: {got:?}"
                    );
                    if want {
                        allowed += 1;
                    } else {
                        // Refusals always say why, in both languages.
                        let r = got.unwrap_err();
                        assert!(!r.localized(Lang::Zh).is_empty() && !r.to_string().is_empty());
                    }
                }
            }
        }
    }
    assert_eq!(checked, 12 * 24 * 9 * 8);
    assert!(allowed > 100, "{allowed}");
}

#[test]
fn approvals_need_their_request() {
    let secretary = Standing {
        in_scope: true,
        ..Standing::default()
    };
    let dept = Standing {
        department: true,
        ..Standing::default()
    };
    let worker = Role::GridWorker;
    let mut f = facts(CaseState::Accepted);
    let requested = apply(f, Action::RequestVoid, worker, secretary).unwrap();
    assert_eq!(requested.facts.pending, Some(Pending::Void));
    assert_eq!(requested.facts.state, CaseState::Accepted);
    assert_eq!(requested.visibility, Visibility::Internal);
    assert_eq!(
        apply(requested.facts, Action::RequestVoid, worker, secretary),
        Err(Refusal::AlreadyPending(Pending::Void))
    );
    assert_eq!(
        apply(
            requested.facts,
            Action::ApproveVoid,
            Role::GridLeader,
            secretary
        ),
        Err(Refusal::NotYours {
            action: Action::ApproveVoid
        }),
        "only the community approves a void"
    );
    let voided = apply(
        requested.facts,
        Action::ApproveVoid,
        Role::CommunitySecretary,
        secretary,
    )
    .unwrap();
    assert_eq!(voided.facts.state, CaseState::Voided);
    assert_eq!(voided.clock, ClockEffect::Stop);
    let kept = apply(
        requested.facts,
        Action::RejectVoid,
        Role::CommunitySecretary,
        secretary,
    )
    .unwrap();
    assert_eq!(
        (kept.facts.state, kept.facts.pending),
        (CaseState::Accepted, None)
    );

    f.state = CaseState::InProgress;
    assert_eq!(
        apply(
            f,
            Action::ApproveExtension,
            Role::CommunitySecretary,
            secretary
        ),
        Err(Refusal::NothingPending)
    );
    let asked = apply(f, Action::RequestExtension, Role::DepartmentStaff, dept).unwrap();
    let granted = apply(
        asked.facts,
        Action::ApproveExtension,
        Role::CommunitySecretary,
        secretary,
    )
    .unwrap();
    assert_eq!(granted.clock, ClockEffect::Extend);
    assert_eq!(granted.facts.pending, None);
}

#[test]
fn the_storm_drain_at_building_13_goes_all_the_way() {
    let worker = Standing {
        in_scope: true,
        ..Standing::default()
    };
    let leader = worker;
    let dept = Standing {
        department: true,
        ..Standing::default()
    };
    let resident = Standing {
        reporter: true,
        ..Standing::default()
    };
    let mut f = CaseFacts::new();
    let mut steps = Vec::new();
    for (action, role, standing) in [
        (Action::Escalate, Role::GridWorker, worker),
        (Action::Accept, Role::GridLeader, leader),
        (Action::Dispatch, Role::GridLeader, leader),
        (Action::StartWork, Role::DepartmentStaff, dept),
        (Action::Handle, Role::DepartmentStaff, dept),
        (Action::VerifyPass, Role::GridWorker, worker),
        (Action::Close, Role::GridLeader, leader),
        (Action::Rate, Role::Resident, resident),
    ] {
        let o = apply(f, action, role, standing).unwrap_or_else(|r| panic!("{action:?}: {r}"));
        steps.push((o.facts.state, o.clock));
        f = o.facts;
    }
    assert_eq!(f.state, CaseState::Rated);
    assert_eq!(f.level, Level::GridLeader, "escalated once");
    assert_eq!(
        steps[1],
        (CaseState::Accepted, ClockEffect::Step(Step::Dispatch))
    );
    assert_eq!(
        steps[2],
        (CaseState::Dispatched, ClockEffect::Step(Step::Handling))
    );
    assert_eq!(
        steps[4],
        (CaseState::Handled, ClockEffect::Step(Step::Verification))
    );
    assert_eq!(steps[6], (CaseState::Closed, ClockEffect::Stop));
}

#[test]
fn a_return_and_a_failed_verification_send_it_back() {
    let staff = Standing {
        in_scope: true,
        ..Standing::default()
    };
    let dept = Standing {
        department: true,
        ..Standing::default()
    };
    let mut f = facts(CaseState::Dispatched);
    let returned = apply(f, Action::Return, Role::DepartmentStaff, dept).unwrap();
    assert_eq!(
        returned.facts.state,
        CaseState::Accepted,
        "not ours: back for re-dispatch"
    );
    assert_eq!(returned.visibility, Visibility::Internal);
    f = apply(returned.facts, Action::Dispatch, Role::GridLeader, staff)
        .unwrap()
        .facts;
    f = apply(f, Action::Handle, Role::DepartmentStaff, dept)
        .unwrap()
        .facts;
    let failed = apply(f, Action::VerifyFail, Role::GridWorker, staff).unwrap();
    assert!(failed.rework);
    assert_eq!(failed.facts.state, CaseState::Dispatched);
    assert_eq!(failed.clock, ClockEffect::Step(Step::Handling));
    f = apply(failed.facts, Action::Handle, Role::DepartmentStaff, dept)
        .unwrap()
        .facts;
    f = apply(f, Action::VerifyPass, Role::GridWorker, staff)
        .unwrap()
        .facts;
    f = apply(f, Action::Close, Role::CommunitySecretary, staff)
        .unwrap()
        .facts;
    let reopened = apply(f, Action::Reopen, Role::GridWorker, staff).unwrap();
    assert_eq!(
        reopened.facts.state,
        CaseState::Dispatched,
        "back to the department"
    );
    assert_eq!(reopened.clock, ClockEffect::Restart(Step::Handling));
}

#[test]
fn a_hang_up_pauses_and_resumes_where_it_was() {
    let sec = Standing {
        in_scope: true,
        ..Standing::default()
    };
    let f = facts(CaseState::InProgress);
    let held = apply(f, Action::HangUp, Role::CommunitySecretary, sec).unwrap();
    assert_eq!(held.facts.state, CaseState::HungUp);
    assert_eq!(held.clock, ClockEffect::Pause);
    let back = apply(held.facts, Action::Resume, Role::CommunitySecretary, sec).unwrap();
    assert_eq!(back.facts.state, CaseState::InProgress);
    assert_eq!(back.clock, ClockEffect::Resume);
    assert_eq!(back.facts.resume_to, None);
}

#[test]
fn escalation_climbs_the_ladder_and_stops_at_the_street() {
    let s = Standing {
        in_scope: true,
        ..Standing::default()
    };
    let mut f = facts(CaseState::Reported);
    f = apply(f, Action::Escalate, Role::GridWorker, s)
        .unwrap()
        .facts;
    assert_eq!(f.level, Level::GridLeader);
    assert_eq!(
        apply(f, Action::Escalate, Role::GridWorker, s),
        Err(Refusal::CannotEscalate),
        "already above her"
    );
    f = apply(f, Action::Escalate, Role::GridLeader, s)
        .unwrap()
        .facts;
    f = apply(f, Action::Escalate, Role::CommunitySecretary, s)
        .unwrap()
        .facts;
    assert_eq!(f.level, Level::Street);
    assert!(apply(f, Action::Escalate, Role::CommunitySecretary, s).is_err());
}

#[test]
fn refusals_read_in_chinese() {
    let r = apply(
        facts(CaseState::Closed),
        Action::Dispatch,
        Role::GridLeader,
        Standing {
            in_scope: true,
            ..Standing::default()
        },
    )
    .unwrap_err();
    assert_eq!(r.localized(Lang::Zh), "事件当前为“结案”，不能派遣");
    assert_eq!(r.to_string(), "cannot dispatch a case that is closed");
}
