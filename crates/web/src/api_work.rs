//! The JSON API of photos, the inbox and webhooks.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wangge_app::inbox::InboxItem;
use wangge_app::photos::{PhotoBytes, PhotoRef};
use wangge_app::webhooks::{DeliveryView, WebhookForm, WebhookView};
use wangge_app::{AppError, Resource};
use wangge_core::Lang;

use crate::error::{ApiError, ErrorBody};
use crate::lang::UiLang;
use crate::session::{ApiSession, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/photos",
            // One photo of the largest size, with room to tell it was too big.
            post(upload_photo).layer(DefaultBodyLimit::max(
                wangge_media::PhotoLimits::default().max_bytes + 1,
            )),
        )
        .route("/api/v1/photos/{id}", get(photo))
        .route("/api/v1/photos/{id}/thumbnail", get(thumbnail))
        .route("/api/v1/public/cases/{code}/photos/{id}", get(public_photo))
        .route("/api/v1/inbox", get(inbox))
        .route("/api/v1/inbox/read", post(mark_read))
        .route("/api/v1/webhooks", get(webhooks).post(add_webhook))
        .route("/api/v1/webhooks/{id}", post(set_webhook))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
}

pub(crate) fn id_of(raw: &str, what: Resource, lang: Lang) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::new(AppError::NotFound(what), lang))
}

pub(crate) fn bad_json(lang: Lang) -> impl FnOnce(JsonRejection) -> ApiError {
    move |e| {
        ApiError::new(
            AppError::invalid(
                "body",
                e.body_text(),
                format!("请求内容格式错误：{}", e.body_text()),
            ),
            lang,
        )
    }
}

fn image(p: PhotoBytes) -> Response {
    (
        [
            (header::CONTENT_TYPE, p.content_type),
            (header::CACHE_CONTROL, "private, max-age=86400".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        p.bytes,
    )
        .into_response()
}

/// Uploads a photo (the raw bytes as the body). JPEG, PNG or WebP by
/// content, at most 10 MB and 40 megapixels; stored without its metadata
/// (EXIF GPS and camera are removed), with a thumbnail. Name its id in
/// `photos` of a report or action to attach it.
#[utoipa::path(post, path = "/api/v1/photos", request_body(content = Vec<u8>, content_type = "image/jpeg"), responses(
    (status = 201, body = PhotoDto), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
    (status = 422, body = ErrorBody)
))]
pub async fn upload_photo(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<PhotoRef>), ApiError> {
    let max = state.app.photo_limits().max_bytes;
    let body = body.map_err(|e| {
        let error = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::Photo(wangge_media::PhotoError::TooLarge { size: max + 1, max })
        } else {
            AppError::invalid("body", e.body_text(), "照片上传中断，请重试")
        };
        ApiError::new(error, lang)
    })?;
    let photo = state
        .app
        .upload_photo(&s.actor, body.to_vec())
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok((StatusCode::CREATED, Json(photo)))
}

/// A stored photo, as the API describes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoDto {
    pub id: i64,
    pub width: i64,
    pub height: i64,
    pub url: String,
    pub thumbnail_url: String,
}

/// A photo: its uploader's, or one of a case the caller may see.
#[utoipa::path(get, path = "/api/v1/photos/{id}", params(("id" = i64, Path)), responses(
    (status = 200, content_type = "image/jpeg"), (status = 404, body = ErrorBody)
))]
pub async fn photo(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id = id_of(&raw, Resource::Photo, lang)?;
    let p = state
        .app
        .photo(&s.actor, id, false)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(image(p))
}

/// A photo's thumbnail (JPEG, at most 320 px a side).
#[utoipa::path(get, path = "/api/v1/photos/{id}/thumbnail", params(("id" = i64, Path)), responses(
    (status = 200, content_type = "image/jpeg"), (status = 404, body = ErrorBody)
))]
pub async fn thumbnail(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id = id_of(&raw, Resource::Photo, lang)?;
    let p = state
        .app
        .photo(&s.actor, id, true)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(image(p))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ThumbQuery {
    /// `1` for the thumbnail.
    pub thumbnail: Option<u8>,
}

/// A photo of a public timeline entry of a case, by the case's public code.
#[utoipa::path(get, path = "/api/v1/public/cases/{code}/photos/{id}", params(("code" = String, Path), ("id" = i64, Path), ThumbQuery), responses(
    (status = 200, content_type = "image/jpeg"), (status = 404, body = ErrorBody)
))]
pub async fn public_photo(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    Path((code, raw)): Path<(String, String)>,
    Query(q): Query<ThumbQuery>,
) -> Result<Response, ApiError> {
    let id = id_of(&raw, Resource::Photo, lang)?;
    let p = state
        .app
        .public_photo(&code, id, q.thumbnail == Some(1))
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(image(p))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct InboxQuery {
    /// `1` for unread messages only.
    pub unread: Option<u8>,
}

/// The inbox: unread count and messages (new dispatch, escalated to you,
/// returned, verification due, approval, reminder, overdue …), newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxDto {
    pub unread: i64,
    #[schema(value_type = Vec<Object>)]
    pub messages: Vec<InboxItem>,
}

#[utoipa::path(get, path = "/api/v1/inbox", params(InboxQuery), responses((status = 200, body = InboxDto)))]
pub async fn inbox(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Query(q): Query<InboxQuery>,
) -> Result<Json<InboxDto>, ApiError> {
    let messages = state
        .app
        .inbox(&s.actor, q.unread == Some(1), lang)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    let unread = state
        .app
        .unread_count(&s.actor)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(InboxDto { unread, messages }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReadRequest {
    /// One message; all when absent.
    pub id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReadDto {
    pub marked: u64,
}

/// Marks one message (or all) read.
#[utoipa::path(post, path = "/api/v1/inbox/read", request_body = ReadRequest, responses((status = 200, body = ReadDto)))]
pub async fn mark_read(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    req: Result<Json<ReadRequest>, JsonRejection>,
) -> Result<Json<ReadDto>, ApiError> {
    let Json(req) = req.map_err(bad_json(lang))?;
    let marked = state
        .app
        .mark_read(&s.actor, req.id)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(ReadDto { marked }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewWebhookDto {
    #[schema(value_type = Object)]
    pub webhook: WebhookView,
    /// Shown once: signs every delivery (`X-Wangge-Signature`).
    pub secret: String,
}

/// Webhooks (administrators).
#[utoipa::path(get, path = "/api/v1/webhooks", responses((status = 200, description = "webhooks"), (status = 403, body = ErrorBody)))]
pub async fn webhooks(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
) -> Result<Json<Vec<WebhookView>>, ApiError> {
    Ok(Json(
        state
            .app
            .webhooks(&s.actor)
            .await
            .map_err(|e| ApiError::new(e, lang))?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookRequest {
    pub name: String,
    /// `http://` or `https://`.
    pub url: String,
    /// `case.reported`, `case.dispatched`, … or `*` (the default).
    #[serde(default)]
    pub events: Vec<String>,
}

/// Adds a webhook; the answer carries its signing secret, once.
#[utoipa::path(post, path = "/api/v1/webhooks", request_body = WebhookRequest, responses(
    (status = 201, body = NewWebhookDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn add_webhook(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    req: Result<Json<WebhookRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<NewWebhookDto>), ApiError> {
    let Json(req) = req.map_err(bad_json(lang))?;
    let (webhook, secret) = state
        .app
        .add_webhook(
            &s.actor,
            WebhookForm {
                name: req.name,
                url: req.url,
                events: req.events,
            },
        )
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok((StatusCode::CREATED, Json(NewWebhookDto { webhook, secret })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WebhookChange {
    pub active: bool,
}

/// Turns a webhook on or off.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}", params(("id" = i64, Path)), request_body = WebhookChange, responses(
    (status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)
))]
pub async fn set_webhook(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    req: Result<Json<WebhookChange>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let id = id_of(&raw, Resource::Webhook, lang)?;
    let Json(req) = req.map_err(bad_json(lang))?;
    state
        .app
        .set_webhook_active(&s.actor, id, req.active)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's delivery log, newest first: each attempt with its HTTP
/// status or error, and whether the delivery will be retried.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", params(("id" = i64, Path)), responses(
    (status = 200, description = "attempts"), (status = 403, body = ErrorBody)
))]
pub async fn deliveries(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<Json<Vec<DeliveryView>>, ApiError> {
    let id = id_of(&raw, Resource::Webhook, lang)?;
    Ok(Json(
        state
            .app
            .webhook_log(&s.actor, id)
            .await
            .map_err(|e| ApiError::new(e, lang))?,
    ))
}
