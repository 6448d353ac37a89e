//! Which department a new case goes to: the most specific routing rule
//! that matches its category and place, else its category's default.
//!
//! A rule names a category code or a prefix of one (`01` for every public
//! facility, `0103` for storm-drain covers), optionally a community or a
//! street, and a department. Specificity: the longer category code wins;
//! at equal length, a community beats a street, which beats anywhere.
//! The dispatcher may still choose another department when dispatching.

use serde::{Deserialize, Serialize};

use crate::org::Id;

/// One routing rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    pub id: Id,
    /// A category code or a prefix of one.
    pub category: String,
    pub community_id: Option<Id>,
    pub street_id: Option<Id>,
    pub department_id: Id,
}

/// Where a case lies, as far as rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Place {
    pub community_id: Option<Id>,
    pub street_id: Option<Id>,
}

impl RoutingRule {
    fn matches(&self, category: &str, place: Place) -> bool {
        category.starts_with(&self.category)
            && self
                .community_id
                .is_none_or(|c| place.community_id == Some(c))
            && self.street_id.is_none_or(|s| place.street_id == Some(s))
    }

    fn specificity(&self) -> (usize, u8) {
        let place = match (self.community_id, self.street_id) {
            (Some(_), _) => 2,
            (None, Some(_)) => 1,
            (None, None) => 0,
        };
        (self.category.len(), place)
    }
}

/// The department for a case of `category` at `place`.
pub fn route(
    rules: &[RoutingRule],
    category: &str,
    place: Place,
    default: Option<Id>,
) -> Option<Id> {
    rules
        .iter()
        .filter(|r| r.matches(category, place))
        .max_by_key(|r| r.specificity())
        .map(|r| r.department_id)
        .or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        id: Id,
        category: &str,
        community: Option<Id>,
        street: Option<Id>,
        dept: Id,
    ) -> RoutingRule {
        RoutingRule {
            id,
            category: category.into(),
            community_id: community,
            street_id: street,
            department_id: dept,
        }
    }

    const HEPING: Place = Place {
        community_id: Some(1),
        street_id: Some(10),
    };
    const CHUNHUI: Place = Place {
        community_id: Some(2),
        street_id: Some(10),
    };
    const ELSEWHERE: Place = Place {
        community_id: Some(3),
        street_id: Some(11),
    };

    #[test]
    fn without_rules_the_category_default_holds() {
        assert_eq!(route(&[], "0103", HEPING, Some(7)), Some(7));
        assert_eq!(route(&[], "0103", HEPING, None), None);
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let rules = [
            rule(1, "01", None, None, 100),
            rule(2, "01", None, Some(10), 200),
            rule(3, "0103", Some(2), None, 300),
            rule(4, "01", Some(1), None, 400),
        ];
        // 0103 in 春晖: the category-and-community rule.
        assert_eq!(route(&rules, "0103", CHUNHUI, Some(7)), Some(300));
        // 0103 in 和平: no 0103 rule there; of the 01 rules, the community's.
        assert_eq!(route(&rules, "0103", HEPING, Some(7)), Some(400));
        // 0104 in 春晖: the street's 01 rule beats the 01 rule for anywhere.
        assert_eq!(route(&rules, "0104", CHUNHUI, Some(7)), Some(200));
        // Another street: the rule for anywhere.
        assert_eq!(route(&rules, "0104", ELSEWHERE, Some(7)), Some(100));
        // Another category: the default.
        assert_eq!(route(&rules, "E0101", HEPING, Some(7)), Some(7));
        // A case with no place only meets rules for anywhere.
        assert_eq!(route(&rules, "0103", Place::default(), Some(7)), Some(100));
    }
}
