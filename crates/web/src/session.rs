//! Who is asking: sessions from a bearer token or the session cookie, and
//! the CSRF rule for cookie sessions.
//!
//! - API clients send `Authorization: Bearer <token>`; such requests carry
//!   no ambient authority, so they need no CSRF token.
//! - Browsers hold the token in an HttpOnly, SameSite=Lax cookie. Every
//!   unsafe request riding on that cookie must also carry the session's
//!   CSRF token: the `X-CSRF-Token` header (API) or the `_csrf` form field
//!   (pages).

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Redirect, Response};
use wangge_app::{App, AppError, Session};

use crate::error::ApiError;
use crate::lang::negotiate;

pub const SESSION_COOKIE: &str = "wangge_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Web settings that handlers need.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebConfig {
    /// Always mark cookies `Secure` (when TLS ends in front of wangge
    /// without an `X-Forwarded-Proto` header).
    pub secure_cookies: bool,
}

/// The state every handler gets.
#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub config: WebConfig,
    /// Anonymous Open311 reads per client address.
    pub open311_limiter: Arc<crate::open311::Limiter>,
}

impl FromRef<AppState> for Arc<App> {
    fn from_ref(s: &AppState) -> Arc<App> {
        s.app.clone()
    }
}

pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    cookie_in(&parts.headers, name)
}

pub fn cookie_in(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
        .map(str::to_owned)
}

fn bearer(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|t| t.trim().to_owned())
}

fn unsafe_method(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Whether cookies set on this response should be `Secure`.
pub fn secure(parts_headers: &axum::http::HeaderMap, config: WebConfig) -> bool {
    config.secure_cookies
        || parts_headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for a session token (or its removal, with `None`).
pub fn session_cookie(token: Option<&str>, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let value = match token {
        Some(t) => format!("{SESSION_COOKIE}={t}; Path=/; HttpOnly; SameSite=Lax{secure}"),
        None => format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    };
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A signed-in API request. Rejects with 401, or 403 for a cookie request
/// without its CSRF header.
pub struct ApiSession(pub Session);

impl<S> FromRequestParts<S> for ApiSession
where
    Arc<App>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = Arc::<App>::from_ref(state);
        let lang = negotiate(parts);
        let (token, via_cookie) = match bearer(parts) {
            Some(t) => (t, false),
            None => match cookie(parts, SESSION_COOKIE) {
                Some(t) => (t, true),
                None => return Err(ApiError::new(AppError::Unauthenticated, lang)),
            },
        };
        let session = app
            .authenticate(&token)
            .await
            .map_err(|e| ApiError::new(e, lang))?;
        if via_cookie && unsafe_method(&parts.method) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent != Some(session.csrf_token.as_str()) {
                return Err(ApiError::new(AppError::Csrf, lang));
            }
        }
        Ok(ApiSession(session))
    }
}

/// A signed-in page request (cookie only); otherwise a redirect to the
/// login page that comes back here.
pub struct PageSession(pub Session);

pub struct ToLogin(String);

impl IntoResponse for ToLogin {
    fn into_response(self) -> Response {
        Redirect::to(&format!("/login?next={}", self.0)).into_response()
    }
}

fn percent_encode_path(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn page_session(parts: &Parts, app: &App) -> Option<Session> {
    let token = cookie(parts, SESSION_COOKIE)?;
    app.authenticate(&token).await.ok()
}

impl<S> FromRequestParts<S> for PageSession
where
    Arc<App>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ToLogin;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ToLogin> {
        let app = Arc::<App>::from_ref(state);
        page_session(parts, &app)
            .await
            .map(PageSession)
            .ok_or_else(|| ToLogin(percent_encode_path(parts.uri.path())))
    }
}

impl<S> OptionalFromRequestParts<S> for PageSession
where
    Arc<App>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let app = Arc::<App>::from_ref(state);
        Ok(page_session(parts, &app).await.map(PageSession))
    }
}

/// Checks the `_csrf` field of a page's form against the session.
pub fn check_form_csrf(session: &Session, sent: &str) -> Result<(), AppError> {
    if constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
        Ok(())
    } else {
        Err(AppError::Csrf)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
