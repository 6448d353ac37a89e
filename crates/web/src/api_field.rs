//! The JSON API of field work: patrols, care visits and referrals,
//! campaigns and QR cards, opinions and notices.

use axum::Json;
use axum::Router;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use wangge_app::field::Period;
use wangge_app::field::campaigns::{CampaignForm, TargetForm, TeamForm};
use wangge_app::field::patrols::{CheckinForm, FixForm, InspectionForm};
use wangge_app::field::visits::VisitForm;
use wangge_app::field::voice::{NoticeForm, OpinionForm, RelayForm};
use wangge_app::{AppError, Resource};
use wangge_core::Lang;
use wangge_core::campaign::{TargetStatus, Template};
use wangge_core::visit::{ReferralStatus, VisitRule, VisitStatus};
use wangge_core::voice::{OpinionStatus, Topic};

use crate::api_work::{bad_json, id_of};
use crate::error::{ApiError, ErrorBody};
use crate::lang::UiLang;
use crate::session::{ApiSession, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/patrols", get(patrols).post(start_patrol))
        .route("/api/v1/patrols/current", get(current_patrol))
        .route("/api/v1/patrols/{id}", get(patrol))
        .route("/api/v1/patrols/{id}/track", post(upload_track))
        .route("/api/v1/patrols/{id}/end", post(end_patrol))
        .route("/api/v1/checkins", post(check_in))
        .route(
            "/api/v1/businesses/{id}/inspections",
            get(inspections).post(inspect),
        )
        .route("/api/v1/field/figures", get(figures))
        .route("/api/v1/visit-rules", get(visit_rules).put(set_visit_rules))
        .route("/api/v1/care-list", get(care_list))
        .route("/api/v1/visits", get(visits).post(record_visit))
        .route("/api/v1/visits/{id}", get(visit))
        .route("/api/v1/residents/{id}/major-changes", post(major_change))
        .route("/api/v1/residents/{id}/qr/revoke", post(revoke_qr))
        .route("/api/v1/referrals", get(referrals))
        .route("/api/v1/referrals/{id}", get(referral))
        .route("/api/v1/referrals/{id}/status", post(move_referral))
        .route("/api/v1/referrals/{id}/case", post(referral_case))
        .route("/api/v1/referrals/{id}/form.pdf", get(referral_pdf))
        .route("/api/v1/campaign-templates", get(templates))
        .route("/api/v1/campaigns", get(campaigns).post(create_campaign))
        .route("/api/v1/campaigns/{id}", get(campaign))
        .route("/api/v1/campaigns/{id}/targets", get(targets))
        .route("/api/v1/campaigns/{id}/team", post(assign))
        .route("/api/v1/campaigns/{id}/team/{member}", delete(unassign))
        .route("/api/v1/campaigns/{id}/qr-cards.pdf", post(qr_cards))
        .route("/api/v1/targets/{id}", get(target).post(update_target))
        .route("/api/v1/qr/{token}", get(scan))
        .route("/api/v1/qr/{token}/check-in", post(scan_check_in))
        .route("/api/v1/opinions", get(opinions).post(add_opinion))
        .route("/api/v1/opinions/{id}", get(opinion))
        .route("/api/v1/opinions/{id}/answer", post(answer_opinion))
        .route("/api/v1/opinions/{id}/case", post(opinion_case))
        .route("/api/v1/notices", get(notices).post(publish_notice))
        .route("/api/v1/notices/{id}", get(notice))
        .route("/api/v1/notices/{id}/relays", post(relay_notice))
        .route("/api/v1/search", get(search))
}

type ApiResult<T> = Result<Json<T>, ApiError>;

/// Answers a use case's outcome as JSON, or its error in `lang`.
fn reply<T: Serialize>(lang: Lang, r: Result<T, AppError>) -> ApiResult<T> {
    r.map(Json).map_err(|e| ApiError::new(e, lang))
}

fn created<T: Serialize>(
    lang: Lang,
    r: Result<T, AppError>,
) -> Result<(StatusCode, Json<T>), ApiError> {
    r.map(|v| (StatusCode::CREATED, Json(v)))
        .map_err(|e| ApiError::new(e, lang))
}

fn body<T>(lang: Lang, b: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    b.map(|Json(v)| v).map_err(bad_json(lang))
}

fn pdf(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// `scheme://host` of the request, for links printed on paper.
pub(crate) fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}")
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct PeriodQuery {
    /// First day (`YYYY-MM-DD`), by default the first of this month.
    pub from: Option<String>,
    /// Last day, by default today.
    pub to: Option<String>,
    /// One worker's (user id).
    pub worker: Option<i64>,
    /// One household's.
    pub household: Option<i64>,
}

impl PeriodQuery {
    fn period(&self, state: &AppState, lang: Lang) -> Result<Period, ApiError> {
        Period::of_days(self.from.as_deref(), self.to.as_deref(), state.app.today())
            .map_err(|e| ApiError::new(e, lang))
    }
}

// ---- Patrols.

#[derive(Debug, Default, Deserialize)]
pub struct StartForm {
    #[serde(default)]
    pub grid_id: Option<i64>,
    #[serde(default)]
    pub note: String,
}

/// Starts a patrol (one at a time), of the worker's grid or `grid_id`.
#[utoipa::path(post, path = "/api/v1/patrols", responses((status = 201), (status = 409, body = ErrorBody)))]
pub async fn start_patrol(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    b: Result<Json<StartForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let f = body(lang, b)?;
    created(
        lang,
        state.app.start_patrol(&s.actor, f.grid_id, &f.note).await,
    )
}

/// Patrols of the grids in scope over a period, newest first.
#[utoipa::path(get, path = "/api/v1/patrols", params(PeriodQuery), responses((status = 200)))]
pub async fn patrols(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Query(q): Query<PeriodQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let period = q.period(&state, lang)?;
    reply(lang, state.app.patrols(&s.actor, q.worker, &period).await)
}

/// The caller's patrol going on, or `null`.
#[utoipa::path(get, path = "/api/v1/patrols/current", responses((status = 200)))]
pub async fn current_patrol(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
) -> Result<impl IntoResponse, ApiError> {
    reply(lang, state.app.current_patrol(&s.actor).await)
}

/// A patrol with its track, check-ins and the cases reported on it.
#[utoipa::path(get, path = "/api/v1/patrols/{id}", params(("id" = i64, Path)), responses((status = 200), (status = 404, body = ErrorBody)))]
pub async fn patrol(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Patrol, lang)?;
    reply(lang, state.app.patrol(&s.actor, id).await)
}

#[derive(Debug, Deserialize)]
pub struct TrackForm {
    pub points: Vec<FixForm>,
}

/// Uploads GPS fixes `{seq, at, lat, lon, accuracy}`; a batch sent again
/// adds nothing (`accepted: 0`).
#[utoipa::path(post, path = "/api/v1/patrols/{id}/track", params(("id" = i64, Path)), responses((status = 200), (status = 422, body = ErrorBody)))]
pub async fn upload_track(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    b: Result<Json<TrackForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Patrol, lang)?;
    let f = body(lang, b)?;
    reply(lang, state.app.upload_track(&s.actor, id, f.points).await)
}

/// Ends the caller's patrol, measuring its track.
#[utoipa::path(post, path = "/api/v1/patrols/{id}/end", params(("id" = i64, Path)), responses((status = 200), (status = 409, body = ErrorBody)))]
pub async fn end_patrol(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Patrol, lang)?;
    reply(lang, state.app.end_patrol(&s.actor, id).await)
}

#[derive(Debug, Serialize)]
pub struct Created {
    pub id: i64,
}

/// Checks in at one building, household or business.
#[utoipa::path(post, path = "/api/v1/checkins", responses((status = 201), (status = 404, body = ErrorBody)))]
pub async fn check_in(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    b: Result<Json<CheckinForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let f = body(lang, b)?;
    created(
        lang,
        state
            .app
            .check_in(&s.actor, f)
            .await
            .map(|id| Created { id }),
    )
}

/// Records a business's safety check; `report_failures` files a case for
/// each failed item.
#[utoipa::path(post, path = "/api/v1/businesses/{id}/inspections", params(("id" = i64, Path)), responses((status = 201), (status = 422, body = ErrorBody)))]
pub async fn inspect(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    b: Result<Json<InspectionForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Business, lang)?;
    let f = body(lang, b)?;
    created(lang, state.app.inspect_business(&s.actor, id, f).await)
}

/// A business's safety checks, newest first.
#[utoipa::path(get, path = "/api/v1/businesses/{id}/inspections", params(("id" = i64, Path)), responses((status = 200)))]
pub async fn inspections(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Business, lang)?;
    reply(lang, state.app.inspections(&s.actor, id).await)
}

#[derive(Debug, Serialize)]
pub struct Figures {
    pub patrols: wangge_app::field::patrols::PatrolFigures,
    pub visits: wangge_app::field::visits::VisitFigures,
}

/// Patrol days, minutes, distance and coverage; visits and their on-time
/// rate; per worker and grid, over a period.
#[utoipa::path(get, path = "/api/v1/field/figures", params(PeriodQuery), responses((status = 200)))]
pub async fn figures(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Query(q): Query<PeriodQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let period = q.period(&state, lang)?;
    let run = async {
        Ok(Figures {
            patrols: state.app.patrol_figures(&s.actor, period).await?,
            visits: state.app.visit_figures(&s.actor, period).await?,
        })
    };
    reply(lang, run.await)
}

// ---- Care visits and referrals.

/// The visit rules in force.
#[utoipa::path(get, path = "/api/v1/visit-rules", responses((status = 200)))]
pub async fn visit_rules(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(_s): ApiSession,
) -> Result<impl IntoResponse, ApiError> {
    reply(lang, state.app.visit_rules().await)
}

/// Replaces the visit rules (administrators).
#[utoipa::path(put, path = "/api/v1/visit-rules", responses((status = 200), (status = 403, body = ErrorBody)))]
pub async fn set_visit_rules(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    b: Result<Json<Vec<VisitRule>>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let rules = body(lang, b)?;
    let run = async {
        state.app.set_visit_rules(&s.actor, rules).await?;
        state.app.visit_rules().await
    };
    reply(lang, run.await)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct CareQuery {
    /// Comma-separated: `overdue`, `due`, `upcoming`; by default overdue and due.
    pub status: Option<String>,
    pub grid: Option<i64>,
}

/// The caller's visit list: overdue first, then by due date.
#[utoipa::path(get, path = "/api/v1/care-list", params(CareQuery), responses((status = 200)))]
pub async fn care_list(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Query(q): Query<CareQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let statuses = parse_list(lang, "status", q.status.as_deref(), VisitStatus::parse)?
        .unwrap_or_else(|| vec![VisitStatus::Overdue, VisitStatus::Due]);
    reply(lang, state.app.care_list(&s.actor, &statuses, q.grid).await)
}

fn parse_list<T>(
    lang: Lang,
    field: &'static str,
    raw: Option<&str>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<Vec<T>>, ApiError> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    if raw == "all" {
        return Ok(Some(Vec::new()));
    }
    raw.split(',')
        .map(|s| {
            parse(s.trim()).ok_or_else(|| {
                ApiError::new(
                    AppError::invalid(
                        field,
                        format!("unknown value {s:?}"),
                        format!("“{s}”不是可选的值"),
                    ),
                    lang,
                )
            })
        })
        .collect::<Result<Vec<T>, _>>()
        .map(Some)
}

fn parse_one<T>(
    lang: Lang,
    field: &'static str,
    raw: Option<&str>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    Ok(parse_list(lang, field, raw, parse)?.and_then(|v| v.into_iter().next()))
}

/// Records a visit; needs with a `programme` become referrals.
#[utoipa::path(post, path = "/api/v1/visits", responses((status = 201), (status = 422, body = ErrorBody)))]
pub async fn record_visit(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    b: Result<Json<VisitForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let f = body(lang, b)?;
    created(lang, state.app.record_visit(&s.actor, f).await)
}

/// Visits over a period (of one household), newest first.
#[utoipa::path(get, path = "/api/v1/visits", params(PeriodQuery), responses((status = 200)))]
pub async fn visits(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Query(q): Query<PeriodQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let period = q.period(&state, lang)?;
    reply(lang, state.app.visits(&s.actor, q.household, &period).await)
}

#[utoipa::path(get, path = "/api/v1/visits/{id}", params(("id" = i64, Path)), responses((status = 200), (status = 404, body = ErrorBody)))]
pub async fn visit(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Visit, lang)?;
    reply(lang, state.app.visit(&s.actor, id).await)
}

#[derive(Debug, Deserialize)]
pub struct MajorChangeForm {
    pub kind: String,
    #[serde(default)]
    pub note: String,
}

/// Records a major change (hospitalised, bereaved …): a visit is due
/// within 24 hours.
#[utoipa::path(post, path = "/api/v1/residents/{id}/major-changes", params(("id" = i64, Path)), responses((status = 201)))]
pub async fn major_change(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    b: Result<Json<MajorChangeForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Resident, lang)?;
    let f = body(lang, b)?;
    created(
        lang,
        state
            .app
            .record_major_change(&s.actor, id, &f.kind, &f.note)
            .await
            .map(|id| Created { id }),
    )
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ReferralQuery {
    pub status: Option<String>,
    pub household: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/referrals", params(ReferralQuery), responses((status = 200)))]
pub async fn referrals(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Query(q): Query<ReferralQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let status = parse_one(lang, "status", q.status.as_deref(), ReferralStatus::parse)?;
    reply(
        lang,
        state.app.referrals(&s.actor, status, q.household).await,
    )
}

#[utoipa::path(get, path = "/api/v1/referrals/{id}", params(("id" = i64, Path)), responses((status = 200), (status = 404, body = ErrorBody)))]
pub async fn referral(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Referral, lang)?;
    reply(lang, state.app.referral(&s.actor, id).await)
}

#[derive(Debug, Deserialize)]
pub struct MoveForm {
    pub status: String,
    #[serde(default)]
    pub note: String,
    pub version: i64,
}

/// Moves a referral: submitted, approved, rejected (with the reason), delivered.
#[utoipa::path(post, path = "/api/v1/referrals/{id}/status", params(("id" = i64, Path)), responses((status = 200), (status = 409, body = ErrorBody)))]
pub async fn move_referral(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    b: Result<Json<MoveForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Referral, lang)?;
    let f = body(lang, b)?;
    reply(
        lang,
        state
            .app
            .move_referral(&s.actor, id, f.version, &f.status, &f.note)
            .await,
    )
}

#[derive(Debug, Serialize)]
pub struct CaseRef {
    pub case_id: i64,
}

/// Turns a referral's need into a case (once).
#[utoipa::path(post, path = "/api/v1/referrals/{id}/case", params(("id" = i64, Path)), responses((status = 200)))]
pub async fn referral_case(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Referral, lang)?;
    reply(
        lang,
        state
            .app
            .referral_to_case(&s.actor, id)
            .await
            .map(|case_id| CaseRef { case_id }),
    )
}

/// The printable recommendation form of a referral (A4 PDF).
#[utoipa::path(get, path = "/api/v1/referrals/{id}/form.pdf", params(("id" = i64, Path)), responses((status = 200, content_type = "application/pdf")))]
pub async fn referral_pdf(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<Response, ApiError> {
    let id = id_of(&raw, Resource::Referral, lang)?;
    let bytes = state
        .app
        .referral_pdf(&s.actor, id)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(pdf(bytes, &format!("referral-{id}.pdf")))
}

// ---- Campaigns.

#[derive(Debug, Serialize)]
pub struct TemplateDto {
    pub code: &'static str,
    pub name: &'static str,
    pub goal: &'static str,
    pub kind: &'static str,
    pub reasons: Vec<(&'static str, &'static str)>,
}

/// The campaign templates (the three of the story, and custom).
#[utoipa::path(get, path = "/api/v1/campaign-templates", responses((status = 200)))]
pub async fn templates(UiLang(lang): UiLang, ApiSession(_s): ApiSession) -> Json<Vec<TemplateDto>> {
    Json(
        Template::ALL
            .iter()
            .map(|t| TemplateDto {
                code: t.as_str(),
                name: t.label(lang),
                goal: t.goal(),
                kind: t.kind().as_str(),
                reasons: t
                    .reasons()
                    .iter()
                    .map(|r| (r.as_str(), r.label(lang)))
                    .collect(),
            })
            .collect(),
    )
}

#[utoipa::path(get, path = "/api/v1/campaigns", responses((status = 200)))]
pub async fn campaigns(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
) -> Result<impl IntoResponse, ApiError> {
    reply(lang, state.app.campaigns(&s.actor).await)
}

/// Creates a campaign; its targets are picked by the filter at once.
#[utoipa::path(post, path = "/api/v1/campaigns", responses((status = 201), (status = 422, body = ErrorBody)))]
pub async fn create_campaign(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    b: Result<Json<CampaignForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let f = body(lang, b)?;
    created(lang, state.app.create_campaign(&s.actor, f).await)
}

/// A campaign with progress, awareness and completion by grid, building and unit.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", params(("id" = i64, Path)), responses((status = 200), (status = 404, body = ErrorBody)))]
pub async fn campaign(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Campaign, lang)?;
    reply(lang, state.app.campaign(&s.actor, id).await)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct TargetQuery {
    pub building: Option<i64>,
    pub status: Option<String>,
}

/// The caller's targets in door-to-door order (building, unit, floor, door).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/targets", params(("id" = i64, Path), TargetQuery), responses((status = 200)))]
pub async fn targets(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    Query(q): Query<TargetQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Campaign, lang)?;
    let status = parse_one(lang, "status", q.status.as_deref(), TargetStatus::parse)?;
    reply(
        lang,
        state
            .app
            .campaign_targets(&s.actor, id, q.building, status)
            .await,
    )
}

/// Puts a unit leader, volunteer or grid worker on the team for a building (or unit).
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/team", params(("id" = i64, Path)), responses((status = 200)))]
pub async fn assign(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    b: Result<Json<TeamForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Campaign, lang)?;
    let f = body(lang, b)?;
    reply(lang, state.app.assign_team(&s.actor, id, f).await)
}

#[utoipa::path(delete, path = "/api/v1/campaigns/{id}/team/{member}", params(("id" = i64, Path), ("member" = i64, Path)), responses((status = 200)))]
pub async fn unassign(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path((raw, member)): Path<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Campaign, lang)?;
    let member = id_of(&member, Resource::User, lang)?;
    reply(lang, state.app.unassign_team(&s.actor, id, member).await)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct CardQuery {
    /// Only residents at least this old.
    pub min_age: Option<i16>,
    /// `1`: only residents without a phone on the register.
    pub without_phone: Option<u8>,
}

/// Prints QR check-in cards (A4 PDF, 8 a page) for the campaign's
/// residents in the caller's grids; each card replaces the resident's
/// earlier one.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/qr-cards.pdf", params(("id" = i64, Path), CardQuery), responses((status = 200, content_type = "application/pdf")))]
pub async fn qr_cards(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Query(q): Query<CardQuery>,
) -> Result<Response, ApiError> {
    let id = id_of(&raw, Resource::Campaign, lang)?;
    let bytes = state
        .app
        .qr_sheet(
            &s.actor,
            id,
            q.min_age,
            q.without_phone == Some(1),
            &origin(&headers),
        )
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(pdf(bytes, &format!("qr-cards-{id}.pdf")))
}

#[utoipa::path(get, path = "/api/v1/targets/{id}", params(("id" = i64, Path)), responses((status = 200), (status = 404, body = ErrorBody)))]
pub async fn target(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Target, lang)?;
    reply(lang, state.app.campaign_target(&s.actor, id).await)
}

/// Records a target's status (`unable` needs a `reason`), at its `version`.
#[utoipa::path(post, path = "/api/v1/targets/{id}", params(("id" = i64, Path)), responses((status = 200), (status = 409, body = ErrorBody)))]
pub async fn update_target(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    b: Result<Json<TargetForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Target, lang)?;
    let f = body(lang, b)?;
    reply(lang, state.app.update_target(&s.actor, id, f).await)
}

/// What a scanned card shows: masked name, place, open targets.
#[utoipa::path(get, path = "/api/v1/qr/{token}", params(("token" = String, Path)), responses((status = 200), (status = 404, body = ErrorBody)))]
pub async fn scan(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(token): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    reply(lang, state.app.scan(&s.actor, &token).await)
}

#[derive(Debug, Deserialize)]
pub struct ScanForm {
    pub target_id: i64,
}

/// Checks a card in: the target is done. A revoked card checks in nothing (409).
#[utoipa::path(post, path = "/api/v1/qr/{token}/check-in", params(("token" = String, Path)), responses((status = 200), (status = 409, body = ErrorBody)))]
pub async fn scan_check_in(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(token): Path<String>,
    b: Result<Json<ScanForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let f = body(lang, b)?;
    reply(
        lang,
        state.app.scan_check_in(&s.actor, &token, f.target_id).await,
    )
}

#[derive(Debug, Serialize)]
pub struct Revoked {
    pub revoked: u64,
}

/// Revokes a resident's QR cards.
#[utoipa::path(post, path = "/api/v1/residents/{id}/qr/revoke", params(("id" = i64, Path)), responses((status = 200)))]
pub async fn revoke_qr(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Resident, lang)?;
    reply(
        lang,
        state
            .app
            .revoke_qr(&s.actor, id)
            .await
            .map(|revoked| Revoked { revoked }),
    )
}

// ---- Opinions and notices.

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct OpinionQuery {
    pub status: Option<String>,
    pub topic: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/opinions", params(OpinionQuery), responses((status = 200)))]
pub async fn opinions(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Query(q): Query<OpinionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let status = parse_one(lang, "status", q.status.as_deref(), OpinionStatus::parse)?;
    let topic = parse_one(lang, "topic", q.topic.as_deref(), Topic::parse)?;
    reply(lang, state.app.opinions(&s.actor, status, topic).await)
}

/// Records an opinion (a worker for her grid; a resident by position).
#[utoipa::path(post, path = "/api/v1/opinions", responses((status = 201), (status = 422, body = ErrorBody)))]
pub async fn add_opinion(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    b: Result<Json<OpinionForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let f = body(lang, b)?;
    created(lang, state.app.add_opinion(&s.actor, f).await)
}

#[utoipa::path(get, path = "/api/v1/opinions/{id}", params(("id" = i64, Path)), responses((status = 200), (status = 404, body = ErrorBody)))]
pub async fn opinion(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Opinion, lang)?;
    reply(lang, state.app.opinion(&s.actor, id).await)
}

#[derive(Debug, Deserialize)]
pub struct AnswerForm {
    pub answer: String,
}

#[utoipa::path(post, path = "/api/v1/opinions/{id}/answer", params(("id" = i64, Path)), responses((status = 200), (status = 409, body = ErrorBody)))]
pub async fn answer_opinion(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    b: Result<Json<AnswerForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Opinion, lang)?;
    let f = body(lang, b)?;
    reply(
        lang,
        state.app.answer_opinion(&s.actor, id, &f.answer).await,
    )
}

#[derive(Debug, Deserialize)]
pub struct ToCaseForm {
    pub category: String,
    #[serde(default)]
    pub address: String,
}

#[derive(Debug, Serialize)]
pub struct OpinionCase {
    pub opinion: wangge_app::field::voice::Opinion,
    pub case_id: i64,
}

/// Turns an open opinion into a case of `category`.
#[utoipa::path(post, path = "/api/v1/opinions/{id}/case", params(("id" = i64, Path)), responses((status = 200)))]
pub async fn opinion_case(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    b: Result<Json<ToCaseForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Opinion, lang)?;
    let f = body(lang, b)?;
    reply(
        lang,
        state
            .app
            .opinion_to_case(&s.actor, id, &f.category, &f.address)
            .await
            .map(|(opinion, case_id)| OpinionCase { opinion, case_id }),
    )
}

#[utoipa::path(get, path = "/api/v1/notices", responses((status = 200)))]
pub async fn notices(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
) -> Result<impl IntoResponse, ApiError> {
    reply(lang, state.app.notices(&s.actor).await)
}

/// Publishes a notice to a grid, community or street.
#[utoipa::path(post, path = "/api/v1/notices", responses((status = 201), (status = 404, body = ErrorBody)))]
pub async fn publish_notice(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    b: Result<Json<NoticeForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let f = body(lang, b)?;
    created(lang, state.app.publish_notice(&s.actor, f).await)
}

/// A notice with who passed it on, in which grid.
#[utoipa::path(get, path = "/api/v1/notices/{id}", params(("id" = i64, Path)), responses((status = 200), (status = 404, body = ErrorBody)))]
pub async fn notice(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Notice, lang)?;
    reply(lang, state.app.notice(&s.actor, id).await)
}

/// Records that the caller passed a notice on (how, to how many).
#[utoipa::path(post, path = "/api/v1/notices/{id}/relays", params(("id" = i64, Path)), responses((status = 200)))]
pub async fn relay_notice(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    b: Result<Json<RelayForm>, JsonRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let id = id_of(&raw, Resource::Notice, lang)?;
    let f = body(lang, b)?;
    reply(lang, state.app.relay_notice(&s.actor, id, f).await)
}

// ---- Search.

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Words (Chinese, traditional or simplified, pinyin, initials,
    /// numbers) or a full ID number.
    pub q: Option<String>,
}

/// Searches residents, households, businesses, cases, opinions and visits
/// in the caller's scope; results grouped by kind, sensitive numbers masked.
#[utoipa::path(get, path = "/api/v1/search", params(SearchQuery), responses((status = 200), (status = 422, body = ErrorBody)))]
pub async fn search(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Query(q): Query<SearchQuery>,
) -> Result<impl IntoResponse, ApiError> {
    reply(
        lang,
        state
            .app
            .search(&s.actor, q.q.as_deref().unwrap_or(""))
            .await,
    )
}
