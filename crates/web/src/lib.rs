//! HTTP for wangge: HTML pages for people, the JSON API under `/api/v1`
//! with its OpenAPI document, and `/healthz`. Handlers parse, call
//! [`wangge_app::App`], and render; rules live below this crate.

mod admin_pages;
pub mod api;
pub mod api_cases;
pub mod api_field;
pub mod api_register;
pub mod api_sheets;
pub mod api_work;
mod case_pages;
pub mod error;
mod field_pages;
mod field_texts;
mod form;
pub mod lang;
mod map;
mod nav;
pub mod open311;
pub mod pages;
mod register_pages;
pub mod session;
mod sheet_pages;
pub mod texts;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;
use wangge_app::{App, AppError, Resource};

use crate::error::ApiError;
use crate::lang::{PageLang, negotiate, page_lang};
pub use crate::session::{AppState, WebConfig};

const STYLE: &str = include_str!("../static/style.css");

/// The whole HTTP surface of one app node.
pub fn router(app: Arc<App>) -> Router {
    router_with(app, WebConfig::default())
}

pub fn router_with(app: Arc<App>, config: WebConfig) -> Router {
    let state = AppState {
        app,
        config,
        open311_limiter: Arc::new(open311::limiter()),
    };
    Router::new()
        .route("/healthz", get(api::health))
        .route("/static/style.css", get(style))
        .merge(api::routes())
        .merge(api_register::routes())
        .merge(api_cases::routes())
        .merge(api_work::routes())
        .merge(api_field::routes())
        .merge(api_sheets::routes())
        .merge(admin_pages::routes())
        .merge(
            open311::routes().route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                open311::limit_reads,
            )),
        )
        .merge(pages::routes())
        .merge(register_pages::routes())
        .merge(case_pages::routes())
        .merge(field_pages::routes())
        .merge(sheet_pages::routes())
        .fallback(fallback)
        .with_state(state)
        .merge(SwaggerUi::new("/api/docs").url("/api/openapi.json", api::ApiDoc::openapi()))
        .layer(axum::middleware::from_fn(lang::remember_choice))
        .layer(TraceLayer::new_for_http())
}

async fn style() -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        STYLE,
    )
        .into_response()
}

/// Unknown paths: a JSON error under `/api`, a page elsewhere.
async fn fallback(request: Request) -> Response {
    let (parts, _) = request.into_parts();
    if parts.uri.path().starts_with("/api/") {
        ApiError::new(AppError::NotFound(Resource::Route), negotiate(&parts)).into_response()
    } else {
        pages::not_found(PageLang(page_lang(&parts))).await
    }
}
