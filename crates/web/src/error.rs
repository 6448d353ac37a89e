//! API errors: JSON with a stable code and a message in the reader's language.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use wangge_app::AppError;
use wangge_core::{Lang, Localized};

/// `{"error": {"code": "...", "message": "...", "field": "...", "details": [...]}}`
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code, e.g. `grid_not_found`.
    pub code: &'static str,
    /// For people, in zh-CN or en by `Accept-Language`.
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// One line per problem, when there are several (e.g. a boundary file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// Every wrong field of a form, with its message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldMessage>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldMessage {
    pub field: &'static str,
    pub message: String,
}

/// An error on its way to an API client.
#[derive(Debug)]
pub struct ApiError {
    pub error: AppError,
    pub lang: Lang,
}

impl ApiError {
    pub fn new(error: AppError, lang: Lang) -> Self {
        Self { error, lang }
    }
}

pub fn status_of(error: &AppError) -> StatusCode {
    match error {
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Invalid { .. } | AppError::InvalidFields(_) | AppError::BadBoundaries(_) => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        AppError::Conflict(_)
        | AppError::NotNow { .. }
        | AppError::Refused(_)
        | AppError::LikelyDuplicates(_) => StatusCode::CONFLICT,
        AppError::LoginFailed | AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::Csrf | AppError::Forbidden => StatusCode::FORBIDDEN,
        AppError::Photo(wangge_media::PhotoError::TooLarge { .. }) => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::Photo(wangge_media::PhotoError::UnsupportedType) => {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
        AppError::Photo(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        AppError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.error);
        match &self.error {
            AppError::Store(e) => tracing::error!(error = %e, "storage error"),
            AppError::Internal(e) => tracing::error!(error = %e, "internal error"),
            _ => {}
        }
        let details = match &self.error {
            AppError::BadBoundaries(errors) => {
                errors.iter().map(|e| e.localized(self.lang)).collect()
            }
            _ => Vec::new(),
        };
        let message = match (&self.error, self.lang) {
            (AppError::BadBoundaries(errors), Lang::Zh) => {
                format!("边界文件有 {} 处问题，未导入任何内容", errors.len())
            }
            (AppError::BadBoundaries(errors), Lang::En) => format!(
                "the boundary file has {} problem(s); nothing was imported",
                errors.len()
            ),
            (e, lang) => e.localized(lang),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.error.code(),
                message,
                field: self.error.field(),
                details,
                fields: self
                    .error
                    .field_errors()
                    .into_iter()
                    .map(|f| FieldMessage {
                        field: f.field,
                        message: f.message(self.lang).to_owned(),
                    })
                    .collect(),
            },
        };
        (status, Json(body)).into_response()
    }
}
