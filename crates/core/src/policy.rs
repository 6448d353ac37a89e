//! Who may see and do what: the one access policy.
//!
//! Every decision is made here, from the actor's role and the org units it
//! is assigned to. The answer is a [`RegisterScope`] that the application
//! turns into a filter every storage query applies in SQL, so that records
//! out of scope are never read, and answer "not found".
//!
//! | role | register: list, read | create, update | reveal ID/phone | minors (< 14) |
//! |---|---|---|---|---|
//! | admin | — | — | — | — |
//! | street officer | their streets | — | — | not listed |
//! | community secretary | their communities | yes | yes | read, reveal |
//! | grid leader | their grids | yes | yes | read |
//! | grid worker | their grid | yes | yes | read |
//! | unit leader, volunteer | only campaign targets assigned to them (see [`field_scope`]) | — | — | — |
//! | department staff | — | — | — | — |
//! | resident | — | — | — | — |

use serde::Serialize;

use crate::i18n::Lang;
use crate::org::Id;

macro_rules! roles {
    ($($variant:ident = $text:literal / $zh:literal / $en:literal),+ $(,)?) => {
        /// A user's role (角色).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Role { $($variant),+ }

        impl Role {
            pub const ALL: &'static [Role] = &[$(Role::$variant),+];
            pub fn as_str(self) -> &'static str { match self { $(Role::$variant => $text),+ } }
            pub fn parse(s: &str) -> Option<Role> { match s { $($text => Some(Role::$variant),)+ _ => None } }
            pub fn label(self, lang: Lang) -> &'static str {
                match (self, lang) { $((Role::$variant, Lang::Zh) => $zh, (Role::$variant, Lang::En) => $en,)+ }
            }
        }
    };
}

roles!(
    Admin = "admin" / "系统管理员" / "administrator",
    StreetOfficer = "street_officer" / "街道工作人员" / "street officer",
    CommunitySecretary = "community_secretary" / "社区书记" / "community secretary",
    GridLeader = "grid_leader" / "网格长" / "grid leader",
    GridWorker = "grid_worker" / "网格员" / "grid worker",
    UnitLeader = "unit_leader" / "单元长" / "unit leader",
    Volunteer = "volunteer" / "志愿者" / "volunteer",
    DepartmentStaff = "department_staff" / "职能部门" / "department staff",
    Resident = "resident" / "居民" / "resident",
);

/// The org level a role is assigned at, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignedAt {
    Nothing,
    Grid,
    Community,
    Street,
    Department,
}

impl Role {
    /// Where users of this role are assigned.
    pub fn assigned_at(self) -> AssignedAt {
        match self {
            Role::Admin | Role::Resident => AssignedAt::Nothing,
            Role::StreetOfficer => AssignedAt::Street,
            Role::CommunitySecretary => AssignedAt::Community,
            Role::GridLeader | Role::GridWorker | Role::UnitLeader | Role::Volunteer => {
                AssignedAt::Grid
            }
            Role::DepartmentStaff => AssignedAt::Department,
        }
    }
}

/// Someone acting: a signed-in user with their assignments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub user_id: Id,
    pub role: Role,
    pub grids: Vec<Id>,
    pub communities: Vec<Id>,
    pub streets: Vec<Id>,
    pub departments: Vec<Id>,
}

/// What an actor wants to do with register records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// List or read one record (sensitive fields masked).
    Read,
    Create,
    Update,
    /// See a full ID or phone number, with a reason, audited.
    Reveal,
}

/// The org units whose records are in scope.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Units {
    pub grids: Vec<Id>,
    pub communities: Vec<Id>,
    pub streets: Vec<Id>,
}

impl Units {
    pub fn is_empty(&self) -> bool {
        self.grids.is_empty() && self.communities.is_empty() && self.streets.is_empty()
    }
}

/// The answer of the policy for one actor and action on the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterScope {
    /// Records in these units; nothing when empty.
    pub units: Units,
    /// Whether records of minors (under 14) are included.
    pub minors: bool,
}

impl RegisterScope {
    pub fn nothing() -> Self {
        Self {
            units: Units::default(),
            minors: false,
        }
    }

    pub fn is_nothing(&self) -> bool {
        self.units.is_empty()
    }
}

/// The register records `actor` may take `action` on.
pub fn register_scope(actor: &Actor, action: Action) -> RegisterScope {
    let own = |minors| RegisterScope {
        units: Units {
            grids: actor.grids.clone(),
            communities: actor.communities.clone(),
            streets: actor.streets.clone(),
        },
        minors,
    };
    match (actor.role, action) {
        (Role::StreetOfficer, Action::Read) => own(false),
        (Role::CommunitySecretary, _) => own(true),
        (Role::GridLeader | Role::GridWorker, Action::Reveal) => own(false),
        (Role::GridLeader | Role::GridWorker, _) => own(true),
        _ => RegisterScope::nothing(),
    }
}

/// What an actor wants to do in field work: patrols, care visits and
/// referrals, campaigns, opinions and notices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldAction {
    /// See records, lists and progress.
    Read,
    /// Record work: patrols, check-ins, visits, target statuses, opinions,
    /// answers, notices passed on.
    Work,
    /// Plan work for others: create campaigns and their teams, publish
    /// notices, edit who a campaign targets.
    Plan,
}

/// The org units whose field work `actor` may take `action` on.
///
/// | role | read | work | plan |
/// |---|---|---|---|
/// | street officer | their streets | — | their streets |
/// | community secretary | their communities | yes | yes |
/// | grid leader | their grids | yes | yes |
/// | grid worker | their grid | yes | — |
/// | unit leader, volunteer | — (only the campaign targets assigned to them: [`works_assigned_targets`]) | — | — |
/// | admin, department staff, resident | — | — | — |
pub fn field_scope(actor: &Actor, action: FieldAction) -> Units {
    let own = || Units {
        grids: actor.grids.clone(),
        communities: actor.communities.clone(),
        streets: actor.streets.clone(),
    };
    match (actor.role, action) {
        (Role::StreetOfficer, FieldAction::Read | FieldAction::Plan) => own(),
        (Role::CommunitySecretary | Role::GridLeader, _) => own(),
        (Role::GridWorker, FieldAction::Read | FieldAction::Work) => own(),
        _ => Units::default(),
    }
}

/// Unit leaders and volunteers work only the campaign targets in the
/// buildings (or units) they are assigned to, and see nothing else.
pub fn works_assigned_targets(actor: &Actor) -> bool {
    matches!(actor.role, Role::UnitLeader | Role::Volunteer)
}

/// Whether `actor` manages users and configuration.
pub fn is_admin(actor: &Actor) -> bool {
    actor.role == Role::Admin
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: 1,
            role,
            grids: if role.assigned_at() == AssignedAt::Grid {
                vec![10]
            } else {
                vec![]
            },
            communities: if role == Role::CommunitySecretary {
                vec![20]
            } else {
                vec![]
            },
            streets: if role == Role::StreetOfficer {
                vec![30]
            } else {
                vec![]
            },
            departments: if role == Role::DepartmentStaff {
                vec![40]
            } else {
                vec![]
            },
        }
    }

    #[test]
    fn the_table_holds() {
        use Action::*;
        let expect = |role: Role, action: Action, units: bool, minors: bool| {
            let s = register_scope(&actor(role), action);
            assert_eq!(!s.is_nothing(), units, "{role:?} {action:?} units");
            if units {
                assert_eq!(s.minors, minors, "{role:?} {action:?} minors");
            }
        };
        for action in [Read, Create, Update, Reveal] {
            for role in [
                Role::Admin,
                Role::UnitLeader,
                Role::Volunteer,
                Role::DepartmentStaff,
                Role::Resident,
            ] {
                expect(role, action, false, false);
            }
            expect(Role::CommunitySecretary, action, true, true);
        }
        expect(Role::StreetOfficer, Read, true, false);
        for action in [Create, Update, Reveal] {
            expect(Role::StreetOfficer, action, false, false);
        }
        for role in [Role::GridLeader, Role::GridWorker] {
            expect(role, Read, true, true);
            expect(role, Update, true, true);
            expect(role, Reveal, true, false);
        }
    }

    #[test]
    fn the_field_work_table_holds() {
        use FieldAction::*;
        let has = |role, action| !field_scope(&actor(role), action).is_empty();
        for action in [Read, Work, Plan] {
            for role in [
                Role::Admin,
                Role::UnitLeader,
                Role::Volunteer,
                Role::DepartmentStaff,
                Role::Resident,
            ] {
                assert!(!has(role, action), "{role:?} {action:?}");
            }
            assert!(has(Role::CommunitySecretary, action));
            assert!(has(Role::GridLeader, action));
        }
        assert!(has(Role::GridWorker, Read) && has(Role::GridWorker, Work));
        assert!(!has(Role::GridWorker, Plan));
        assert!(has(Role::StreetOfficer, Read) && has(Role::StreetOfficer, Plan));
        assert!(!has(Role::StreetOfficer, Work));
        assert!(works_assigned_targets(&actor(Role::UnitLeader)));
        assert!(works_assigned_targets(&actor(Role::Volunteer)));
        assert!(!works_assigned_targets(&actor(Role::GridWorker)));
    }

    #[test]
    fn a_scope_covers_only_the_actor_units() {
        let s = register_scope(&actor(Role::GridWorker), Action::Read);
        assert_eq!(s.units.grids, [10]);
        assert!(s.units.communities.is_empty() && s.units.streets.is_empty());
        let s = register_scope(&actor(Role::StreetOfficer), Action::Read);
        assert_eq!(s.units.streets, [30]);
    }

    #[test]
    fn roles_round_trip_and_read_in_chinese() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
        }
        assert_eq!(Role::GridWorker.label(Lang::Zh), "网格员");
    }
}
