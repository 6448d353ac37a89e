//! The sweeper's rule: given where a case's clocks stand, which alerts to
//! raise and whether to escalate it. Pure; the app raises each alert once.
//!
//! | clock                         | alert                     | escalation                     |
//! |-------------------------------|---------------------------|--------------------------------|
//! | step ≥ 80 % (yellow)          | reminder to its holders   | —                              |
//! | step > 100 % (red)            | overdue to holders + boss | acceptance or dispatch overdue: up one level past the grid leader (community, then street) |
//! | whole case > 100 % (red)      | overdue to the community  | —                              |

use serde::Serialize;

use crate::calendar::Light;
use crate::workflow::{CaseFacts, Level, Step};

/// Something the sweeper tells people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Alert {
    /// The step's time is 80 % gone.
    Reminder(Step),
    /// The step's time is up.
    StepOverdue(Step),
    /// The whole case's time is up.
    CaseOverdue,
}

/// Alerts for a case's clocks (both red raises the reminder too: an alert
/// missed while the sweeper was down is still raised once).
pub fn alerts(step: Option<(Step, Light)>, overall: Light) -> Vec<Alert> {
    let mut out = Vec::new();
    if let Some((s, light)) = step {
        if matches!(light, Light::Yellow | Light::Red) {
            out.push(Alert::Reminder(s));
        }
        if light == Light::Red {
            out.push(Alert::StepOverdue(s));
        }
    }
    if overall == Light::Red {
        out.push(Alert::CaseOverdue);
    }
    out
}

/// Where an overdue step moves the case: a case nobody accepted or
/// dispatched in time goes to the community, then to the street.
pub fn escalation(alert: Alert, facts: CaseFacts) -> Option<Level> {
    match alert {
        Alert::StepOverdue(Step::Acceptance | Step::Dispatch) => match facts.level {
            Level::Grid | Level::GridLeader => Some(Level::Community),
            Level::Community => Some(Level::Street),
            Level::Street => None,
        },
        _ => None,
    }
}

impl Alert {
    /// A key unique per alert and clock start: the same alert for the same
    /// step run is raised once; a restarted step raises it again.
    pub fn key(self, step_started_micros: i64, clock_start_micros: i64) -> String {
        match self {
            Alert::Reminder(s) => format!("reminder:{}:{step_started_micros}", step_name(s)),
            Alert::StepOverdue(s) => format!("overdue:{}:{step_started_micros}", step_name(s)),
            Alert::CaseOverdue => format!("case_overdue:{clock_start_micros}"),
        }
    }
}

fn step_name(s: Step) -> &'static str {
    match s {
        Step::Acceptance => "acceptance",
        Step::Dispatch => "dispatch",
        Step::Handling => "handling",
        Step::Verification => "verification",
        Step::Closing => "closing",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::CaseState;

    #[test]
    fn lights_raise_alerts() {
        assert!(alerts(Some((Step::Handling, Light::Green)), Light::Green).is_empty());
        assert_eq!(
            alerts(Some((Step::Handling, Light::Yellow)), Light::Green),
            vec![Alert::Reminder(Step::Handling)]
        );
        assert_eq!(
            alerts(Some((Step::Dispatch, Light::Red)), Light::Red),
            vec![
                Alert::Reminder(Step::Dispatch),
                Alert::StepOverdue(Step::Dispatch),
                Alert::CaseOverdue
            ]
        );
        assert_eq!(alerts(None, Light::Red), vec![Alert::CaseOverdue]);
    }

    #[test]
    fn only_unaccepted_or_undispatched_cases_climb() {
        let mut facts = CaseFacts::new();
        facts.state = CaseState::Accepted;
        let over = Alert::StepOverdue(Step::Dispatch);
        assert_eq!(escalation(over, facts), Some(Level::Community));
        facts.level = Level::GridLeader;
        assert_eq!(escalation(over, facts), Some(Level::Community));
        facts.level = Level::Community;
        assert_eq!(escalation(over, facts), Some(Level::Street));
        facts.level = Level::Street;
        assert_eq!(escalation(over, facts), None);
        facts.level = Level::Grid;
        assert_eq!(
            escalation(Alert::StepOverdue(Step::Handling), facts),
            None,
            "a department's overdue case is urged, not moved"
        );
        assert_eq!(escalation(Alert::Reminder(Step::Acceptance), facts), None);
    }

    #[test]
    fn keys_differ_per_step_run() {
        let a = Alert::Reminder(Step::Handling);
        assert_ne!(a.key(1, 0), a.key(2, 0));
        assert_ne!(a.key(1, 0), Alert::StepOverdue(Step::Handling).key(1, 0));
        assert_eq!(Alert::CaseOverdue.key(1, 9), Alert::CaseOverdue.key(2, 9));
    }
}
