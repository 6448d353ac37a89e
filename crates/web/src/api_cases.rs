//! The JSON API of cases: categories, intake (idempotent), lists, one
//! case with its clock and timeline, workflow actions, the public view.

use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wangge_app::cases::{ActForm, CaseForm, CaseView, PublicCaseView};
use wangge_app::register::Page;
use wangge_app::settings::{CalendarDay, CategoryEdit, RoutingRuleForm, RoutingRuleView};
use wangge_app::{AppError, Resource};
use wangge_core::Lang;
use wangge_core::workflow::Action;

use crate::error::{ApiError, ErrorBody};
use crate::lang::UiLang;
use crate::session::{ApiSession, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/categories", get(categories))
        .route(
            "/api/v1/categories/{code}",
            axum::routing::put(edit_category),
        )
        .route(
            "/api/v1/routing-rules",
            get(routing_rules).post(add_routing_rule),
        )
        .route(
            "/api/v1/routing-rules/{id}",
            axum::routing::delete(remove_routing_rule),
        )
        .route("/api/v1/calendar", get(calendar))
        .route(
            "/api/v1/calendar/{day}",
            axum::routing::put(set_calendar_day).delete(remove_calendar_day),
        )
        .route("/api/v1/cases", get(list_cases).post(report_case))
        .route("/api/v1/cases/nearby", get(nearby))
        .route("/api/v1/cases/{id}", get(case))
        .route("/api/v1/cases/{id}/actions", post(act))
        .route("/api/v1/public/cases/{code}", get(public_case))
        .route("/api/v1/kpis", get(kpis))
}

fn bad_body(lang: Lang) -> impl FnOnce(JsonRejection) -> ApiError {
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

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryDto {
    pub code: String,
    pub parent: Option<String>,
    pub name: String,
    /// `component`, `event` or `community`.
    pub kind: String,
    /// `{"unit": "working_days" | "working_hours" | "calendar_hours", "amount": n}`.
    #[schema(value_type = Object)]
    pub limit: serde_json::Value,
    /// Per-step limits: `acceptance`, `dispatch`, `handling`, `verification`, `closing`.
    #[schema(value_type = Object)]
    pub steps: serde_json::Value,
    pub closure: String,
    #[schema(value_type = Vec<Object>)]
    pub questions: serde_json::Value,
    pub public: bool,
    pub active: bool,
}

/// Case categories with their limits and questions.
#[utoipa::path(get, path = "/api/v1/categories", responses((status = 200, body = [CategoryDto])))]
pub async fn categories(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(_): ApiSession,
) -> Result<Json<Vec<CategoryDto>>, ApiError> {
    let list = state
        .app
        .categories()
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(
        list.into_iter()
            .filter(|c| c.active)
            .map(CategoryDto::from)
            .collect(),
    ))
}

impl From<wangge_app::settings::CategoryRecord> for CategoryDto {
    fn from(c: wangge_app::settings::CategoryRecord) -> Self {
        CategoryDto {
            kind: serde_json::to_value(c.spec.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            limit: serde_json::to_value(c.spec.overall).unwrap_or_default(),
            steps: serde_json::to_value(c.spec.steps).unwrap_or_default(),
            questions: serde_json::to_value(&c.spec.questions).unwrap_or_default(),
            code: c.spec.code,
            parent: c.spec.parent,
            name: c.spec.name,
            closure: c.spec.closure,
            public: c.spec.public,
            active: c.active,
        }
    }
}

/// Changes a category (administrators): name, `department` (code),
/// `overall` and `steps` limits (`{"unit": "working_hours" |
/// "working_days" | "calendar_hours", "amount": n}`), `closure`,
/// `questions`, `public`, `active`. Absent fields stay.
#[utoipa::path(put, path = "/api/v1/categories/{code}", params(("code" = String, Path)), request_body(content = Object), responses(
    (status = 200, body = CategoryDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn edit_category(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(code): Path<String>,
    req: Result<Json<CategoryEdit>, JsonRejection>,
) -> Result<Json<CategoryDto>, ApiError> {
    let Json(edit) = req.map_err(bad_body(lang))?;
    let record = state
        .app
        .edit_category(&s.actor, &code, edit)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(record.into()))
}

/// The working calendar: holidays and make-up workdays (other days follow
/// the week: Monday to Friday work).
#[utoipa::path(get, path = "/api/v1/calendar", responses((status = 200, description = "days")))]
pub async fn calendar(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(_): ApiSession,
) -> Result<Json<Vec<CalendarDay>>, ApiError> {
    Ok(Json(
        state
            .app
            .calendar_days()
            .await
            .map_err(|e| ApiError::new(e, lang))?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CalendarDayRequest {
    /// `holiday` or `workday`.
    pub kind: String,
    pub name: String,
}

/// Sets a day as a holiday or a make-up workday (administrators).
#[utoipa::path(put, path = "/api/v1/calendar/{day}", params(("day" = String, Path)), request_body = CalendarDayRequest, responses(
    (status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn set_calendar_day(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(day): Path<String>,
    req: Result<Json<CalendarDayRequest>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(req) = req.map_err(bad_body(lang))?;
    state
        .app
        .set_calendar_day(
            &s.actor,
            CalendarDay {
                day,
                kind: req.kind,
                name: req.name,
            },
        )
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Makes a day ordinary again (administrators).
#[utoipa::path(delete, path = "/api/v1/calendar/{day}", params(("day" = String, Path)), responses(
    (status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn remove_calendar_day(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(day): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .remove_calendar_day(&s.actor, &day)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Files a case. With an `Idempotency-Key` header a retried request
/// creates exactly one case (201 first, 200 after); the same key with
/// another body is refused (422). The grid comes from the position.
#[utoipa::path(post, path = "/api/v1/cases", request_body(content = Object, description = "category, description, lat, lon, address, urgency, source, answers, caller_name"), responses(
    (status = 201, description = "the new case"), (status = 200, description = "the case this key filed before"),
    (status = 422, body = ErrorBody)
))]
pub async fn report_case(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    headers: HeaderMap,
    req: Result<Json<CaseForm>, JsonRejection>,
) -> Result<(StatusCode, Json<CaseView>), ApiError> {
    let Json(form) = req.map_err(bad_body(lang))?;
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200);
    let (view, new) = state
        .app
        .report_case(&s.actor, &form, key)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok((
        if new {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(view),
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct NearbyQuery {
    /// Category code.
    pub category: String,
    pub lat: f64,
    pub lon: f64,
    /// Metres, 1–500 (default 100).
    pub radius: Option<f64>,
}

/// Open cases of the same category near a point, nearest first: offer
/// them before filing a likely duplicate. Public facts only.
#[utoipa::path(get, path = "/api/v1/cases/nearby", params(NearbyQuery), responses(
    (status = 200, description = "nearby open cases"), (status = 422, body = ErrorBody)
))]
pub async fn nearby(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(_): ApiSession,
    q: Result<Query<NearbyQuery>, QueryRejection>,
) -> Result<Json<Vec<wangge_app::cases::NearbyCase>>, ApiError> {
    let Query(q) = q.map_err(|e| {
        ApiError::new(
            AppError::invalid(
                "query",
                e.body_text(),
                format!("查询参数格式错误：{}", e.body_text()),
            ),
            lang,
        )
    })?;
    let point = wangge_core::GeoPoint::new(q.lon, q.lat).map_err(|e| {
        ApiError::new(
            AppError::invalid(
                "location",
                e.to_string(),
                wangge_core::Localized::localized(&e, Lang::Zh),
            ),
            lang,
        )
    })?;
    let radius = q.radius.unwrap_or(wangge_app::cases::DUPLICATE_RADIUS_M);
    Ok(Json(
        state
            .app
            .nearby_cases(&q.category, point, radius)
            .await
            .map_err(|e| ApiError::new(e, lang))?,
    ))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct CaseListQuery {
    /// Comma-separated states, e.g. `dispatched,in_progress`.
    pub state: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Cases the caller may see, newest first, each with its clock.
#[utoipa::path(get, path = "/api/v1/cases", params(CaseListQuery), responses((status = 200, description = "cases")))]
pub async fn list_cases(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    q: Result<Query<CaseListQuery>, QueryRejection>,
) -> Result<Json<Vec<CaseView>>, ApiError> {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let states = q
        .state
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let list = state
        .app
        .list_cases(&s.actor, states, Page::new(q.limit, q.offset))
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(list))
}

/// One case: state, clock (deadline, light, due text), timeline, and the
/// actions the caller may take now.
#[utoipa::path(get, path = "/api/v1/cases/{id}", params(("id" = i64, Path)), responses(
    (status = 200, description = "the case"), (status = 404, body = ErrorBody)
))]
pub async fn case(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let id = raw
        .parse()
        .map_err(|_| ApiError::new(AppError::NotFound(Resource::Case), lang))?;
    Ok(Json(
        state
            .app
            .case_view(&s.actor, id)
            .await
            .map_err(|e| ApiError::new(e, lang))?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ActRequest {
    /// One of the workflow actions (`accept`, `dispatch`, `handle`, `verify_pass`, …).
    pub action: String,
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub form: ActForm,
}

/// Takes a workflow action. One not allowed now answers 409 with the reason.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", params(("id" = i64, Path)), request_body = ActRequest, responses(
    (status = 200, description = "the case after the action"), (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn act(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    req: Result<Json<ActRequest>, JsonRejection>,
) -> Result<Json<CaseView>, ApiError> {
    let id = raw
        .parse()
        .map_err(|_| ApiError::new(AppError::NotFound(Resource::Case), lang))?;
    let Json(req) = req.map_err(bad_body(lang))?;
    let action = Action::parse(&req.action).ok_or_else(|| {
        ApiError::new(
            AppError::invalid("action", "unknown action", "没有这个操作"),
            lang,
        )
    })?;
    Ok(Json(
        state
            .app
            .act_on_case(&s.actor, id, action, &req.form)
            .await
            .map_err(|e| ApiError::new(e, lang))?,
    ))
}

/// A case's public page data: no reporter, no internal entries.
#[utoipa::path(get, path = "/api/v1/public/cases/{code}", params(("code" = String, Path)), responses(
    (status = 200, description = "the public view"), (status = 404, body = ErrorBody)
))]
pub async fn public_case(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    Path(code): Path<String>,
) -> Result<Json<PublicCaseView>, ApiError> {
    Ok(Json(
        state
            .app
            .public_case(&code)
            .await
            .map_err(|e| ApiError::new(e, lang))?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct KpiQuery {
    /// `grid` (default), `community`, `department` or `worker`.
    #[param(value_type = Option<String>)]
    pub by: Option<wangge_app::cases::KpiGroup>,
}

/// On-time acceptance, dispatch and closure, rework and accurate dispatch
/// (each as hits of a sample), and mean handling time in working hours,
/// over the cases the caller may see; groups under 20 cases are flagged.
#[utoipa::path(get, path = "/api/v1/kpis", params(KpiQuery), responses((status = 200, description = "KPI rows")))]
pub async fn kpis(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    q: Result<Query<KpiQuery>, QueryRejection>,
) -> Result<Json<Vec<wangge_app::cases::KpiRow>>, ApiError> {
    let Query(q) = q.map_err(|e| {
        ApiError::new(
            AppError::invalid(
                "by",
                e.body_text(),
                "分组应为 grid、community、department 或 worker",
            ),
            lang,
        )
    })?;
    let by = q.by.unwrap_or(wangge_app::cases::KpiGroup::Grid);
    Ok(Json(
        state
            .app
            .kpis(&s.actor, by)
            .await
            .map_err(|e| ApiError::new(e, lang))?,
    ))
}

/// Routing rules (administrators): which department a new case goes to by
/// category (code or prefix) and place; the most specific rule wins, else
/// the category's department.
#[utoipa::path(get, path = "/api/v1/routing-rules", responses((status = 200, description = "rules"), (status = 403, body = ErrorBody)))]
pub async fn routing_rules(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
) -> Result<Json<Vec<RoutingRuleView>>, ApiError> {
    Ok(Json(
        state
            .app
            .routing_rules(&s.actor)
            .await
            .map_err(|e| ApiError::new(e, lang))?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedDto {
    pub id: i64,
}

/// Adds a routing rule: `{"category": "0103", "place": "<community or street code>", "department": "water"}`.
#[utoipa::path(post, path = "/api/v1/routing-rules", request_body(content = Object), responses(
    (status = 201, body = CreatedDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn add_routing_rule(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    req: Result<Json<RoutingRuleForm>, JsonRejection>,
) -> Result<(StatusCode, Json<CreatedDto>), ApiError> {
    let Json(form) = req.map_err(bad_body(lang))?;
    let id = state
        .app
        .add_routing_rule(&s.actor, form)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok((StatusCode::CREATED, Json(CreatedDto { id })))
}

/// Removes a routing rule.
#[utoipa::path(delete, path = "/api/v1/routing-rules/{id}", params(("id" = i64, Path)), responses(
    (status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn remove_routing_rule(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = raw.parse().map_err(|_| {
        ApiError::new(
            AppError::invalid("id", "no such routing rule", "没有这条分派规则"),
            lang,
        )
    })?;
    state
        .app
        .remove_routing_rule(&s.actor, id)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(StatusCode::NO_CONTENT)
}
