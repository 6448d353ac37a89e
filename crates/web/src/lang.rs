//! The reader's language. Pages: `?lang=` (remembered in a cookie), then
//! the `lang` cookie, else Simplified Chinese, whatever the browser says.
//! API clients: the same, then `Accept-Language`.

use axum::extract::{FromRequestParts, Request};
use axum::http::HeaderValue;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use wangge_core::Lang;

/// Extractor for the language of an API answer ([`negotiate`]).
#[derive(Debug, Clone, Copy)]
pub struct UiLang(pub Lang);

/// Extractor for the language of a page ([`page_lang`]).
#[derive(Debug, Clone, Copy)]
pub struct PageLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for PageLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(PageLang(page_lang(parts)))
    }
}

fn from_query(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("lang="))
        .and_then(Lang::from_tag)
}

fn from_cookie(parts: &Parts) -> Option<Lang> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix("lang="))
        .and_then(Lang::from_tag)
}

/// The language of a page: an explicit choice, else Chinese.
pub fn page_lang(parts: &Parts) -> Lang {
    from_query(parts.uri.query())
        .or_else(|| from_cookie(parts))
        .unwrap_or_default()
}

/// The language of an API answer: an explicit choice, else `Accept-Language`.
pub fn negotiate(parts: &Parts) -> Lang {
    from_query(parts.uri.query())
        .or_else(|| from_cookie(parts))
        .or_else(|| {
            parts
                .headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

impl<S: Send + Sync> FromRequestParts<S> for UiLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(UiLang(negotiate(parts)))
    }
}

/// Remembers a language chosen with `?lang=` in a cookie for a year.
pub async fn remember_choice(request: Request, next: Next) -> Response {
    let chosen = from_query(request.uri().query());
    let mut response = next.run(request).await;
    if let Some(lang) = chosen
        && let Ok(cookie) = HeaderValue::from_str(&format!(
            "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
            lang.tag()
        ))
    {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}
