//! Users, passwords and sessions.
//!
//! Passwords are hashed with Argon2id. A session is a random 256-bit token
//! held by the client (cookie or bearer header); the database keeps only
//! its SHA-256, so a copy of the database opens no session. Sessions end
//! after 30 idle minutes; 5 failed logins lock an account for 30 minutes;
//! an unknown user and a wrong password get the same answer after the same
//! work.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use wangge_core::org::Id;
use wangge_core::policy::{Actor, AssignedAt, Role};
use wangge_store::{AuditEntry, NewSession, NewUser, ScopeKind, SessionRecord, UserRecord};

use crate::App;
use crate::error::AppError;
use crate::privacy::random_bytes;

/// Session and lockout settings.
#[derive(Debug, Clone, Copy)]
pub struct AuthConfig {
    pub idle_timeout: SignedDuration,
    pub max_failed_logins: i64,
    pub lockout: SignedDuration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            idle_timeout: SignedDuration::from_mins(30),
            max_failed_logins: 5,
            lockout: SignedDuration::from_mins(30),
        }
    }
}

/// Shortest password a person may choose.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// How long a node trusts a session it read without reading it again.
pub const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

pub fn hash_password(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that the
/// answer takes as long as for a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password for unknown users").unwrap_or_default())
}

/// A new random token, URL-safe (43 characters).
pub fn new_token() -> Result<String, AppError> {
    let bytes = random_bytes::<32>().map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// A one-time password that is easy to read aloud and type: no 0/O, 1/l/I.
pub fn one_time_password() -> Result<String, AppError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY23456789";
    let bytes = random_bytes::<16>().map_err(|e| AppError::Internal(e.to_string()))?;
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    Ok(format!(
        "{}-{}-{}-{}",
        &chars[0..4],
        &chars[4..8],
        &chars[8..12],
        &chars[12..16]
    ))
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A user as others may see them (no hash, no counters).
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: Id,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub must_change_password: bool,
    pub grids: Vec<Id>,
    pub communities: Vec<Id>,
    pub streets: Vec<Id>,
    pub departments: Vec<Id>,
}

fn actor_of(u: &UserRecord) -> Result<(Actor, UserView), AppError> {
    let role = Role::parse(&u.role)
        .ok_or_else(|| AppError::Internal(format!("user {} has unknown role {}", u.id, u.role)))?;
    let ids = |kind: ScopeKind| -> Vec<Id> {
        u.scopes
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
            .collect()
    };
    let actor = Actor {
        user_id: u.id,
        role,
        grids: ids(ScopeKind::Grid),
        communities: ids(ScopeKind::Community),
        streets: ids(ScopeKind::Street),
        departments: ids(ScopeKind::Department),
    };
    let view = UserView {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role,
        must_change_password: u.must_change_password,
        grids: actor.grids.clone(),
        communities: actor.communities.clone(),
        streets: actor.streets.clone(),
        departments: actor.departments.clone(),
    };
    Ok((actor, view))
}

/// A signed-in request's identity.
#[derive(Debug, Clone)]
pub struct Session {
    pub actor: Actor,
    pub user: UserView,
    pub csrf_token: String,
    pub token_hash: Vec<u8>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoginSuccess {
    pub token: String,
    #[serde(skip)]
    pub csrf_token: String,
    pub user: UserView,
}

/// A new user as an administrator (or the demo) describes it.
#[derive(Debug, Clone)]
pub struct UserSpec {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scopes: Vec<(ScopeKind, Id)>,
}

impl App {
    /// Checks a username and password; on success opens a new session
    /// (ending `previous`, if the client had one: the id is rotated).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        previous: Option<&str>,
    ) -> Result<LoginSuccess, AppError> {
        let now = self.now();
        let user = self.store.user_by_username(username.trim()).await?;
        let Some(user) = user else {
            verify_password(password, decoy_hash());
            let audit = AuditEntry::new(now, None, "user.login_failed", "user")
                .detail(json!({ "username": username.trim(), "reason": "unknown user" }));
            self.store.append_audit(audit).await?;
            return Err(AppError::LoginFailed);
        };
        let locked = user.locked_until.is_some_and(|t| t > now);
        let ok = verify_password(password, &user.password_hash);
        if !ok || locked || user.disabled {
            let reason = if user.disabled {
                "disabled"
            } else if locked {
                "locked"
            } else {
                "wrong password"
            };
            let audit = AuditEntry::new(now, Some(user.id), "user.login_failed", "user")
                .record(user.id)
                .detail(json!({ "reason": reason }));
            if !ok && !locked && !user.disabled {
                let lock_until = now + self.auth.lockout;
                if let Some(until) = self
                    .store
                    .record_login_failure(user.id, self.auth.max_failed_logins, lock_until, audit)
                    .await?
                {
                    tracing::warn!(user = %user.username, %until, "account locked after failed logins");
                }
            } else {
                self.store.append_audit(audit).await?;
            }
            return Err(AppError::LoginFailed);
        }
        let (_, view) = actor_of(&user)?;
        let token = new_token()?;
        let csrf_token = new_token()?;
        self.store
            .record_login_success(
                NewSession {
                    token_hash: token_hash(&token),
                    user_id: user.id,
                    csrf_token: csrf_token.clone(),
                    at: now,
                },
                previous.map(|p| {
                    let hash = token_hash(p);
                    self.forget_session(&hash);
                    hash
                }),
                AuditEntry::new(now, Some(user.id), "user.login", "user").record(user.id),
            )
            .await?;
        Ok(LoginSuccess {
            token,
            csrf_token,
            user: view,
        })
    }

    /// The session a token opens, if it is live; idle sessions end here.
    ///
    /// A session read from the store is remembered for
    /// [`SESSION_CACHE_TTL`]: logging out, disabling a user or changing a
    /// password forgets it on this node at once, and other app nodes stop
    /// honouring it within that time.
    /// A user acting from the command line (no session): as their role
    /// and assignments allow; a disabled account may not.
    pub async fn actor_by_username(&self, username: &str) -> Result<Actor, AppError> {
        let user = self
            .store
            .user_by_username(username)
            .await?
            .filter(|u| !u.disabled)
            .ok_or(AppError::NotFound(crate::Resource::User))?;
        Ok(actor_of(&user)?.0)
    }

    pub async fn authenticate(&self, token: &str) -> Result<Session, AppError> {
        let hash = token_hash(token);
        let cached = self.sessions.read().ok().and_then(|c| {
            c.get(&hash)
                .filter(|(at, _)| at.elapsed() < SESSION_CACHE_TTL)
                .map(|(_, s)| s.clone())
        });
        let mut s = match cached {
            Some(s) => s,
            None => {
                let Some(s) = self.store.session(&hash).await? else {
                    self.forget_session(&hash);
                    return Err(AppError::Unauthenticated);
                };
                self.remember_session(&hash, &s);
                s
            }
        };
        let now = self.now();
        if s.user.disabled || now.duration_since(s.last_seen) > self.auth.idle_timeout {
            self.forget_session(&hash);
            self.store.delete_session(&hash, None).await?;
            return Err(AppError::Unauthenticated);
        }
        // Record activity at most once a minute, to spare the writer.
        if now.duration_since(s.last_seen) > SignedDuration::from_mins(1) {
            self.store.touch_session(&hash, now).await?;
            s.last_seen = now;
            self.remember_session(&hash, &s);
        }
        let (actor, user) = actor_of(&s.user)?;
        Ok(Session {
            actor,
            user,
            csrf_token: s.csrf_token,
            token_hash: hash,
        })
    }

    fn remember_session(&self, hash: &[u8], s: &SessionRecord) {
        if let Ok(mut cache) = self.sessions.write() {
            if cache.len() >= crate::CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(hash.to_vec(), (std::time::Instant::now(), s.clone()));
        }
    }

    fn forget_session(&self, hash: &[u8]) {
        if let Ok(mut cache) = self.sessions.write() {
            cache.remove(hash);
        }
    }

    /// Forgets every cached session of a user (disabled, new password).
    fn forget_sessions_of(&self, user_id: Id) {
        if let Ok(mut cache) = self.sessions.write() {
            cache.retain(|_, (_, s)| s.user.id != user_id);
        }
    }

    pub async fn logout(&self, session: &Session) -> Result<(), AppError> {
        let audit = AuditEntry::new(
            self.now(),
            Some(session.actor.user_id),
            "user.logout",
            "user",
        )
        .record(session.actor.user_id);
        self.forget_session(&session.token_hash);
        Ok(self
            .store
            .delete_session(&session.token_hash, Some(audit))
            .await?)
    }

    /// Changes one's own password, knowing the current one.
    pub async fn change_password(
        &self,
        session: &Session,
        current: &str,
        new: &str,
    ) -> Result<(), AppError> {
        let Some(user) = self.store.user(session.actor.user_id).await? else {
            return Err(AppError::Unauthenticated);
        };
        if !verify_password(current, &user.password_hash) {
            return Err(AppError::invalid(
                "current_password",
                "the current password is wrong",
                "当前密码不正确",
            ));
        }
        check_new_password(new)?;
        let audit = AuditEntry::new(self.now(), Some(user.id), "user.password_changed", "user")
            .record(user.id);
        self.store
            .set_password(user.id, hash_password(new)?, false, audit)
            .await?;
        self.forget_sessions_of(user.id);
        Ok(())
    }

    /// Creates a user with a one-time password, which is returned once.
    pub async fn create_user(
        &self,
        by: Option<Id>,
        spec: UserSpec,
    ) -> Result<(Id, String), AppError> {
        check_username(&spec.username)?;
        let expected = spec.role.assigned_at();
        for (kind, _) in &spec.scopes {
            let fits = matches!(
                (expected, kind),
                (AssignedAt::Grid, ScopeKind::Grid)
                    | (AssignedAt::Community, ScopeKind::Community)
                    | (AssignedAt::Street, ScopeKind::Street)
                    | (AssignedAt::Department, ScopeKind::Department)
            );
            if !fits {
                return Err(AppError::invalid(
                    "scope",
                    format!(
                        "a {} is not assigned to a {}",
                        spec.role.as_str(),
                        kind.as_str()
                    ),
                    format!(
                        "{}不能分配到此类单位",
                        spec.role.label(wangge_core::Lang::Zh)
                    ),
                ));
            }
        }
        if expected != AssignedAt::Nothing && spec.scopes.is_empty() {
            return Err(AppError::invalid(
                "scope",
                format!("a {} needs an assignment", spec.role.as_str()),
                format!("{}需要分配所属单位", spec.role.label(wangge_core::Lang::Zh)),
            ));
        }
        let password = one_time_password()?;
        let audit = AuditEntry::new(self.now(), by, "user.create", "user")
            .detail(json!({ "username": spec.username, "role": spec.role.as_str() }));
        let id = self
            .store
            .insert_user(
                NewUser {
                    username: spec.username,
                    display_name: spec.display_name,
                    role: spec.role.as_str().to_owned(),
                    password_hash: hash_password(&password)?,
                    scopes: spec.scopes,
                },
                audit,
            )
            .await
            .map_err(|e| match e {
                wangge_store::StoreError::Conflict(_) => {
                    AppError::invalid("username", "this username is taken", "用户名已被使用")
                }
                other => other.into(),
            })?;
        Ok((id, password))
    }

    /// Gives a user a new one-time password (an administrator's reset).
    pub async fn reset_password(&self, by: Option<Id>, username: &str) -> Result<String, AppError> {
        let user = self.user_named(username).await?;
        let password = one_time_password()?;
        let audit = AuditEntry::new(self.now(), by, "user.password_reset", "user").record(user.id);
        self.store
            .set_password(user.id, hash_password(&password)?, true, audit)
            .await?;
        self.forget_sessions_of(user.id);
        Ok(password)
    }

    pub async fn set_user_disabled(
        &self,
        by: Option<Id>,
        username: &str,
        disabled: bool,
    ) -> Result<(), AppError> {
        let user = self.user_named(username).await?;
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        let audit = AuditEntry::new(self.now(), by, action, "user").record(user.id);
        self.store.set_disabled(user.id, disabled, audit).await?;
        self.forget_sessions_of(user.id);
        Ok(())
    }

    pub async fn list_users(&self) -> Result<Vec<(UserView, bool, Option<Timestamp>)>, AppError> {
        self.store
            .users()
            .await?
            .iter()
            .map(|u| Ok((actor_of(u)?.1, u.disabled, u.locked_until)))
            .collect()
    }

    async fn user_named(&self, username: &str) -> Result<UserRecord, AppError> {
        self.store
            .user_by_username(username)
            .await?
            .ok_or(AppError::NotFound(crate::Resource::User))
    }
}

fn check_username(name: &str) -> Result<(), AppError> {
    let ok = (3..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "username",
            "a username has 3 to 32 letters, digits, '.', '_' or '-'",
            "用户名为 3 至 32 位字母、数字或 . _ -",
        ))
    }
}

fn check_new_password(p: &str) -> Result<(), AppError> {
    if p.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "new_password",
            format!("a password has at least {MIN_PASSWORD_CHARS} characters"),
            format!("密码至少 {MIN_PASSWORD_CHARS} 位"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn tokens_and_one_time_passwords_look_right() {
        let t = new_token().unwrap();
        assert_eq!(t.len(), 43);
        assert_ne!(t, new_token().unwrap());
        let p = one_time_password().unwrap();
        assert_eq!(p.len(), 19);
        assert!(!p.contains(['0', 'O', '1', 'l', 'I']));
        assert_eq!(token_hash("x").len(), 32);
    }
}
