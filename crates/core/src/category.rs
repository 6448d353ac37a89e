//! Case categories: the national classification of components (部件) and
//! events (事件), plus community categories, each with its time limits,
//! default department, closure condition and extra questions.

use serde::{Deserialize, Serialize};

use crate::calendar::Limit;
use crate::workflow::Step;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryKind {
    /// 部件: a thing in the street (a manhole cover, a lamp).
    Component,
    /// 事件: something happening (exposed garbage, street vending).
    Event,
    /// 社区: disputes, safety hazards, livelihood requests.
    Community,
}

/// Per-step limits; a missing one is not timed separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StepLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<Limit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<Limit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling: Option<Limit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Limit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closing: Option<Limit>,
}

impl StepLimits {
    pub fn of(&self, step: Step) -> Option<Limit> {
        match step {
            Step::Acceptance => self.acceptance,
            Step::Dispatch => self.dispatch,
            Step::Handling => self.handling,
            Step::Verification => self.verification,
            Step::Closing => self.closing,
        }
    }
}

/// The datatypes of Open311 service-definition attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    Singlevaluelist,
    Multivaluelist,
}

/// An extra question a reporter answers for a category.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub code: String,
    pub label: String,
    pub datatype: Datatype,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub values: Vec<String>,
}

/// A category as seeded or edited.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategorySpec {
    pub code: String,
    #[serde(default)]
    pub parent: Option<String>,
    pub name: String,
    pub kind: CategoryKind,
    /// Code of the department cases go to by default.
    #[serde(default)]
    pub department: Option<String>,
    pub overall: Limit,
    #[serde(default)]
    pub steps: StepLimits,
    /// When a case of this category may be closed.
    #[serde(default)]
    pub closure: String,
    #[serde(default)]
    pub questions: Vec<Question>,
    /// Listed to residents and Open311 clients.
    #[serde(default = "yes")]
    pub public: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CategoryError {
    #[error("category {0}: the code must be 2 to 8 letters or digits")]
    BadCode(String),
    #[error("category {0}: a limit must be positive")]
    BadLimit(String),
    #[error("category {code}: parent {parent} is not in the list before it")]
    UnknownParent { code: String, parent: String },
    #[error("category {0} is listed twice")]
    Duplicate(String),
    #[error("category {code}: question {question} is a list with no values")]
    EmptyList { code: String, question: String },
}

fn positive(l: Limit) -> bool {
    match l {
        Limit::WorkingHours(n) | Limit::WorkingDays(n) | Limit::CalendarHours(n) => n > 0,
    }
}

/// Checks a list of categories: codes, limits, parents before children.
pub fn check(list: &[CategorySpec]) -> Result<(), CategoryError> {
    let mut seen: Vec<&str> = Vec::new();
    for c in list {
        let ok_code =
            (2..=8).contains(&c.code.len()) && c.code.chars().all(|ch| ch.is_ascii_alphanumeric());
        if !ok_code {
            return Err(CategoryError::BadCode(c.code.clone()));
        }
        if seen.contains(&c.code.as_str()) {
            return Err(CategoryError::Duplicate(c.code.clone()));
        }
        let steps = [
            c.steps.acceptance,
            c.steps.dispatch,
            c.steps.handling,
            c.steps.verification,
            c.steps.closing,
        ];
        if !positive(c.overall) || steps.iter().flatten().any(|l| !positive(*l)) {
            return Err(CategoryError::BadLimit(c.code.clone()));
        }
        if let Some(p) = &c.parent
            && !seen.contains(&p.as_str())
        {
            return Err(CategoryError::UnknownParent {
                code: c.code.clone(),
                parent: p.clone(),
            });
        }
        for q in &c.questions {
            let list = matches!(
                q.datatype,
                Datatype::Singlevaluelist | Datatype::Multivaluelist
            );
            if list && q.values.is_empty() {
                return Err(CategoryError::EmptyList {
                    code: c.code.clone(),
                    question: q.code.clone(),
                });
            }
        }
        seen.push(&c.code);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(code: &str, parent: Option<&str>) -> CategorySpec {
        CategorySpec {
            code: code.into(),
            parent: parent.map(Into::into),
            name: "雨水井盖".into(),
            kind: CategoryKind::Component,
            department: Some("roads".into()),
            overall: Limit::CalendarHours(36),
            steps: StepLimits::default(),
            closure: String::new(),
            questions: Vec::new(),
            public: true,
        }
    }

    #[test]
    fn lists_are_checked() {
        assert!(check(&[spec("01", None), spec("0103", Some("01"))]).is_ok());
        assert!(matches!(
            check(&[spec("0103", Some("01"))]),
            Err(CategoryError::UnknownParent { .. })
        ));
        assert!(matches!(
            check(&[spec("01", None), spec("01", None)]),
            Err(CategoryError::Duplicate(_))
        ));
        assert!(matches!(
            check(&[spec("0-1", None)]),
            Err(CategoryError::BadCode(_))
        ));
        let mut zero = spec("01", None);
        zero.overall = Limit::WorkingDays(0);
        assert!(matches!(check(&[zero]), Err(CategoryError::BadLimit(_))));
    }
}
