//! The signed-in part of every page's header.

use wangge_app::Session;

/// Who is signed in, for the header: name, logout form's CSRF token.
#[derive(Debug, Clone, Default)]
pub struct Nav {
    pub user: Option<String>,
    pub csrf: String,
    pub must_change_password: bool,
    /// Shows the administration link.
    pub admin: bool,
}

impl Nav {
    pub fn of(session: Option<&Session>) -> Self {
        match session {
            Some(s) => Self {
                user: Some(s.user.display_name.clone()),
                csrf: s.csrf_token.clone(),
                must_change_password: s.user.must_change_password,
                admin: s.actor.role == wangge_core::policy::Role::Admin,
            },
            None => Self::default(),
        }
    }
}
