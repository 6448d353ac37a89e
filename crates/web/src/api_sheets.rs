//! Spreadsheet import and export over the API.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use wangge_app::AppError;
use wangge_app::sheets::{ImportMode, ImportReport, RowError, SheetKind};

use crate::error::{ApiError, ErrorBody};
use crate::lang::UiLang;
use crate::session::{ApiSession, AppState};

/// The largest file an import takes.
pub const MAX_IMPORT_BYTES: usize = 64 * 1024 * 1024;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/import/{kind}/template.{format}", get(template))
        .route(
            "/api/v1/import/{kind}",
            post(import).layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES + 1)),
        )
        .route("/api/v1/export/residents.xlsx", get(export_xlsx))
        .route("/api/v1/export/residents.csv", get(export_csv))
        .route("/api/v1/export/businesses.{format}", get(export_businesses))
        .route("/api/v1/export/cases.{format}", get(export_cases))
        .route(
            "/api/v1/export/campaigns/{id}/targets.{format}",
            get(export_campaign_targets),
        )
        .route(
            "/api/v1/export/households.{format}",
            get(|st, l, s, p, q| export_list(ListSheet::Households, st, l, s, p, q)),
        )
        .route(
            "/api/v1/export/buildings.{format}",
            get(|st, l, s, p, q| export_list(ListSheet::Buildings, st, l, s, p, q)),
        )
        .route(
            "/api/v1/export/visits.{format}",
            get(|st, l, s, p, q| export_list(ListSheet::Visits, st, l, s, p, q)),
        )
        .route(
            "/api/v1/export/referrals.{format}",
            get(|st, l, s, p, q| export_list(ListSheet::Referrals, st, l, s, p, q)),
        )
        .route(
            "/api/v1/export/opinions.{format}",
            get(|st, l, s, p, q| export_list(ListSheet::Opinions, st, l, s, p, q)),
        )
}

fn xlsx_or_csv(format: &str, lang: wangge_core::Lang) -> Result<bool, ApiError> {
    match format {
        "xlsx" => Ok(true),
        "csv" => Ok(false),
        _ => Err(ApiError::new(
            AppError::NotFound(wangge_app::Resource::Route),
            lang,
        )),
    }
}

fn mode_of(raw: Option<&str>, lang: wangge_core::Lang) -> Result<ImportMode, ApiError> {
    match raw {
        None | Some("") => Ok(ImportMode::DryRun),
        Some(m) => ImportMode::parse(m).ok_or_else(|| {
            ApiError::new(
                AppError::invalid(
                    "mode",
                    "dry_run, all_or_nothing or valid_only",
                    "导入方式应为 dry_run、all_or_nothing 或 valid_only",
                ),
                lang,
            )
        }),
    }
}

fn kind_of(raw: &str, lang: wangge_core::Lang) -> Result<SheetKind, ApiError> {
    SheetKind::parse(raw)
        .ok_or_else(|| ApiError::new(AppError::NotFound(wangge_app::Resource::Route), lang))
}

/// An import template (`residents`, `businesses` or `buildings`; `xlsx`
/// or `csv`): the headers and a field-notes row.
#[utoipa::path(get, path = "/api/v1/import/{kind}/template.{format}", params(("kind" = String, Path), ("format" = String, Path)), responses((status = 200)))]
pub async fn template(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(_s): ApiSession,
    axum::extract::Path((kind, format)): axum::extract::Path<(String, String)>,
) -> Result<Response, ApiError> {
    let kind = kind_of(&kind, lang)?;
    let xlsx = xlsx_or_csv(&format, lang)?;
    let bytes = state
        .app
        .sheet_template(kind, xlsx)
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(file(
        bytes,
        &format!("{}导入模板.{format}", kind.title()),
        xlsx,
    ))
}

/// Imports residents, businesses or buildings from a CSV or XLSX body
/// (Chinese headers as in the template). Every row is checked first;
/// errors are reported by row and column.
#[utoipa::path(post, path = "/api/v1/import/{kind}", params(("kind" = String, Path), ImportQuery), responses((status = 200), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    axum::extract::Path(kind): axum::extract::Path<String>,
    Query(q): Query<ImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportDto>, ApiError> {
    let kind = kind_of(&kind, lang)?;
    let body = body.map_err(|e| {
        let error = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::invalid("file", "the file is larger than 64 MB", "文件超过 64 MB")
        } else {
            AppError::invalid("file", e.body_text(), "上传中断，请重试")
        };
        ApiError::new(error, lang)
    })?;
    let mode = mode_of(q.mode.as_deref(), lang)?;
    let report = state
        .app
        .import_sheet(&s.actor, kind, &body, mode, None)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(report.into()))
}

/// The businesses the caller may read (`xlsx` or `csv`; phones masked unless `full=1`).
#[utoipa::path(get, path = "/api/v1/export/businesses.{format}", params(("format" = String, Path), ExportQuery), responses((status = 200)))]
pub async fn export_businesses(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    axum::extract::Path(format): axum::extract::Path<String>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let xlsx = xlsx_or_csv(&format, lang)?;
    let bytes = state
        .app
        .export_businesses(&s.actor, q.full == Some(1), xlsx)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(file(bytes, &format!("商户信息.{format}"), xlsx))
}

/// The cases the caller sees (`xlsx` or `csv`).
#[utoipa::path(get, path = "/api/v1/export/cases.{format}", params(("format" = String, Path)), responses((status = 200)))]
pub async fn export_cases(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    axum::extract::Path(format): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let xlsx = xlsx_or_csv(&format, lang)?;
    let bytes = state
        .app
        .export_cases(&s.actor, xlsx)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(file(bytes, &format!("事件.{format}"), xlsx))
}

/// The lists exported by [`export_list`].
#[derive(Debug, Clone, Copy)]
pub enum ListSheet {
    Households,
    Buildings,
    Visits,
    Referrals,
    Opinions,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// First day (visits; default: the first of this month).
    pub from: Option<String>,
    /// Last day (visits; default: today).
    pub to: Option<String>,
}

/// Households, buildings (in the import template's columns), visits (of a
/// period), referrals or opinions the caller may read, as `xlsx` or `csv`;
/// audited.
#[utoipa::path(get, path = "/api/v1/export/{list}.{format}", params(("list" = String, Path, description = "households, buildings, visits, referrals or opinions"), ("format" = String, Path), PeriodQuery), responses((status = 200)))]
pub async fn export_list(
    list: ListSheet,
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    axum::extract::Path(format): axum::extract::Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, ApiError> {
    let xlsx = xlsx_or_csv(&format, lang)?;
    let app = &state.app;
    let (bytes, name) = match list {
        ListSheet::Households => (app.export_households(&s.actor, xlsx).await, "住户信息"),
        ListSheet::Buildings => (app.export_buildings(&s.actor, xlsx).await, "楼栋信息"),
        ListSheet::Visits => {
            let period =
                wangge_app::field::Period::of_days(q.from.as_deref(), q.to.as_deref(), app.today())
                    .map_err(|e| ApiError::new(e, lang))?;
            (app.export_visits(&s.actor, &period, xlsx).await, "走访记录")
        }
        ListSheet::Referrals => (app.export_referrals(&s.actor, xlsx).await, "帮扶转介"),
        ListSheet::Opinions => (app.export_opinions(&s.actor, xlsx).await, "民意诉求"),
    };
    let bytes = bytes.map_err(|e| ApiError::new(e, lang))?;
    Ok(file(bytes, &format!("{name}.{format}"), xlsx))
}

/// A campaign's targets the caller works or oversees, door to door
/// (`xlsx` or `csv`); audited.
#[utoipa::path(get, path = "/api/v1/export/campaigns/{id}/targets.{format}", params(("id" = i64, Path), ("format" = String, Path)), responses((status = 200), (status = 404, body = ErrorBody)))]
pub async fn export_campaign_targets(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    axum::extract::Path((id, format)): axum::extract::Path<(i64, String)>,
) -> Result<Response, ApiError> {
    let xlsx = xlsx_or_csv(&format, lang)?;
    let bytes = state
        .app
        .export_campaign_targets(&s.actor, id, xlsx)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(file(bytes, &format!("走访对象-{id}.{format}"), xlsx))
}

pub(crate) fn file(bytes: Vec<u8>, name: &str, xlsx: bool) -> Response {
    let kind = if xlsx {
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    } else {
        "text/csv; charset=utf-8"
    };
    (
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ImportQuery {
    /// `dry_run` (default), `all_or_nothing` or `valid_only`.
    pub mode: Option<String>,
}

/// An import's outcome; `rejected_csv` holds the rejected rows (base64 CSV).
#[derive(Debug, Serialize)]
pub struct ImportDto {
    pub rows: usize,
    pub valid: usize,
    pub imported: usize,
    pub households: usize,
    pub errors: Vec<RowError>,
    pub rejected_csv: Option<String>,
}

impl From<ImportReport> for ImportDto {
    fn from(r: ImportReport) -> Self {
        Self {
            rows: r.rows,
            valid: r.valid,
            imported: r.imported,
            households: r.households,
            errors: r.errors,
            rejected_csv: r
                .rejected
                .map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ExportQuery {
    /// One grid of the caller's.
    pub grid: Option<i64>,
    /// `1`: full ID and phone numbers (needs the reveal permission; audited).
    pub full: Option<u8>,
}

/// The residents the caller may read, as XLSX (masked unless `full=1`).
#[utoipa::path(get, path = "/api/v1/export/residents.xlsx", params(ExportQuery), responses((status = 200)))]
pub async fn export_xlsx(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let bytes = state
        .app
        .export_residents(&s.actor, q.grid, q.full == Some(1), true)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(file(bytes, "人口信息.xlsx", true))
}

/// The residents the caller may read, as CSV (masked unless `full=1`).
#[utoipa::path(get, path = "/api/v1/export/residents.csv", params(ExportQuery), responses((status = 200)))]
pub async fn export_csv(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let bytes = state
        .app
        .export_residents(&s.actor, q.grid, q.full == Some(1), false)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(file(bytes, "人口信息.csv", false))
}
