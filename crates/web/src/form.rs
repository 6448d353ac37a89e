//! Form posts from pages: URL-encoded, or multipart when the form carries
//! photos (the camera input of the report and handling forms).

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;

/// Most photos one form may carry.
pub const MAX_FORM_PHOTOS: usize = 4;

/// A posted form: its text fields and its non-empty files.
#[derive(Debug, Default)]
pub struct FormData {
    pub fields: Vec<(String, String)>,
    pub files: Vec<Bytes>,
}

impl FormData {
    /// A field's trimmed value, empty when absent.
    pub fn get(&self, key: &str) -> String {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }
}

/// Why a form could not be read.
#[derive(Debug)]
pub enum FormError {
    /// Bigger than the route allows.
    TooLarge,
    TooManyFiles,
    Unreadable(String),
}

impl<S: Send + Sync> FromRequest<S> for FormData {
    type Rejection = FormError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let multipart = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if !multipart {
            let body = Bytes::from_request(req, state)
                .await
                .map_err(|e| too_large_or(e.status(), e.body_text()))?;
            return Ok(FormData {
                fields: serde_urlencoded::from_bytes(&body).unwrap_or_default(),
                files: Vec::new(),
            });
        }
        let mut parts = Multipart::from_request(req, state)
            .await
            .map_err(|e| too_large_or(e.status(), e.body_text()))?;
        let mut form = FormData::default();
        while let Some(part) = parts
            .next_field()
            .await
            .map_err(|e| too_large_or(e.status(), e.body_text()))?
        {
            let name = part.name().unwrap_or_default().to_owned();
            let is_file = part.file_name().is_some();
            let data = part
                .bytes()
                .await
                .map_err(|e| too_large_or(e.status(), e.body_text()))?;
            if is_file {
                if data.is_empty() {
                    continue;
                }
                if form.files.len() == MAX_FORM_PHOTOS {
                    return Err(FormError::TooManyFiles);
                }
                form.files.push(data);
            } else {
                form.fields
                    .push((name, String::from_utf8_lossy(&data).into_owned()));
            }
        }
        Ok(form)
    }
}

fn too_large_or(status: axum::http::StatusCode, text: String) -> FormError {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        FormError::TooLarge
    } else {
        FormError::Unreadable(text)
    }
}

impl axum::response::IntoResponse for FormError {
    fn into_response(self) -> axum::response::Response {
        let status = match self {
            FormError::TooLarge => axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            _ => axum::http::StatusCode::BAD_REQUEST,
        };
        (status, "表单无法读取 / the form could not be read").into_response()
    }
}

impl FormError {
    pub fn into_app_error(self, max_bytes: usize) -> wangge_app::AppError {
        use wangge_app::AppError;
        match self {
            FormError::TooLarge => AppError::Photo(wangge_media::PhotoError::TooLarge {
                size: max_bytes + 1,
                max: max_bytes,
            }),
            FormError::TooManyFiles => AppError::invalid(
                "photos",
                format!("at most {MAX_FORM_PHOTOS} photos at a time"),
                format!("每次最多上传 {MAX_FORM_PHOTOS} 张照片"),
            ),
            FormError::Unreadable(m) => AppError::invalid(
                "body",
                format!("the form could not be read: {m}"),
                "表单内容无法读取，请重试",
            ),
        }
    }
}
