//! The JSON API under `/api/v1`, described by the OpenAPI document.
//!
//! Handlers are thin: parse, call the app, render a DTO. Authentication
//! arrives as a layer on [`routes`] without changing the handlers.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, OpenApi, ToSchema};
use wangge_app::{App, AppError, Located, Resource};
use wangge_core::codes::CommunityCode;
use wangge_core::org::{Building, CommunitySummary, GridSummary};
use wangge_core::{GeoPoint, Lang, Localized};

use crate::error::{ApiError, ErrorBody};
use crate::lang::UiLang;
use crate::session::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "wangge API",
        description = "Grid-based community governance. Errors are `{\"error\":{\"code\",\"message\"}}`, \
                       with messages in zh-CN or en by `Accept-Language`."
    ),
    paths(
        health, list_communities, list_grids, get_grid, locate,
        crate::api_register::login, crate::api_register::logout, crate::api_register::me,
        crate::api_register::change_password, crate::api_register::grid_buildings,
        crate::api_register::create_building, crate::api_register::update_building,
        crate::api_register::delete_resident,
        crate::api_register::building, crate::api_register::list_households,
        crate::api_register::create_household, crate::api_register::household,
        crate::api_register::update_household,
        crate::api_register::list_residents, crate::api_register::create_resident,
        crate::api_register::resident, crate::api_register::update_resident,
        crate::api_register::reveal_resident, crate::api_register::list_businesses,
        crate::api_register::create_business, crate::api_register::business,
        crate::api_register::update_business, crate::api_register::reveal_business,
        crate::api_cases::categories, crate::api_cases::report_case, crate::api_cases::list_cases,
        crate::api_cases::case, crate::api_cases::act, crate::api_cases::public_case,
        crate::api_cases::nearby, crate::api_cases::kpis, crate::api_cases::edit_category,
        crate::api_cases::calendar, crate::api_cases::set_calendar_day,
        crate::api_cases::remove_calendar_day, crate::api_cases::routing_rules,
        crate::api_cases::add_routing_rule, crate::api_cases::remove_routing_rule,
        crate::api_work::upload_photo, crate::api_work::photo, crate::api_work::thumbnail,
        crate::api_work::public_photo, crate::api_work::inbox, crate::api_work::mark_read,
        crate::api_work::webhooks, crate::api_work::add_webhook, crate::api_work::set_webhook,
        crate::api_work::deliveries,
        crate::api_field::start_patrol, crate::api_field::patrols, crate::api_field::current_patrol,
        crate::api_field::patrol, crate::api_field::upload_track, crate::api_field::end_patrol,
        crate::api_field::check_in, crate::api_field::inspect, crate::api_field::inspections,
        crate::api_field::figures, crate::api_field::visit_rules, crate::api_field::set_visit_rules,
        crate::api_field::care_list, crate::api_field::record_visit, crate::api_field::visits,
        crate::api_field::visit, crate::api_field::major_change, crate::api_field::referrals,
        crate::api_field::referral, crate::api_field::move_referral, crate::api_field::referral_case,
        crate::api_field::referral_pdf, crate::api_field::templates, crate::api_field::campaigns,
        crate::api_field::create_campaign, crate::api_field::campaign, crate::api_field::targets,
        crate::api_field::assign, crate::api_field::unassign, crate::api_field::qr_cards,
        crate::api_field::target, crate::api_field::update_target, crate::api_field::scan,
        crate::api_field::scan_check_in, crate::api_field::revoke_qr, crate::api_field::opinions,
        crate::api_field::add_opinion, crate::api_field::opinion, crate::api_field::answer_opinion,
        crate::api_field::opinion_case, crate::api_field::notices, crate::api_field::publish_notice,
        crate::api_field::notice, crate::api_field::relay_notice, crate::api_field::search,
        crate::api_sheets::template, crate::api_sheets::import,
        crate::api_sheets::export_xlsx,
        crate::api_sheets::export_csv, crate::api_sheets::export_businesses,
        crate::api_sheets::export_cases, crate::api_sheets::export_list,
        crate::api_sheets::export_campaign_targets,
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Declares the bearer token (from `POST /api/v1/auth/login`).
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/communities", get(list_communities))
        .route("/api/v1/grids", get(list_grids))
        .route("/api/v1/grids/locate", get(locate))
        .route("/api/v1/grids/{id}", get(get_grid))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the database does not answer.
    pub status: &'static str,
    pub database: &'static str,
}

/// Liveness and readiness: answers `ok` only after the database answers.
#[utoipa::path(get, path = "/healthz", responses(
    (status = 200, body = Health), (status = 503, body = Health)
))]
pub async fn health(State(app): State<Arc<App>>) -> impl IntoResponse {
    let database = app.backend().name();
    match app.health().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                database,
            }),
        ),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    database,
                }),
            )
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgRef {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommunityDto {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub street: OrgRef,
    pub district: OrgRef,
    pub grid_count: i64,
}

impl From<CommunitySummary> for CommunityDto {
    fn from(c: CommunitySummary) -> Self {
        Self {
            id: c.community.id,
            code: c.community.code.to_string(),
            name: c.community.name,
            street: OrgRef {
                code: c.street_code.to_string(),
                name: c.street_name,
            },
            district: OrgRef {
                code: c.district_code.to_string(),
                name: c.district_name,
            },
            grid_count: c.grid_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GridDto {
    pub id: i64,
    /// 14 digits: community code + 2-digit sequence.
    pub code: String,
    pub name: String,
    /// CJ/T 349 style 20-digit code, when known.
    pub external_code: Option<String>,
    pub community: OrgRef,
    pub street: OrgRef,
    pub district: OrgRef,
    pub building_count: i64,
}

impl From<GridSummary> for GridDto {
    fn from(g: GridSummary) -> Self {
        Self {
            id: g.grid.id,
            code: g.grid.code.to_string(),
            name: g.grid.name,
            external_code: g.grid.external_code.map(|c| c.to_string()),
            community: OrgRef {
                code: g.community_code.to_string(),
                name: g.community_name,
            },
            street: OrgRef {
                code: g.street_code.to_string(),
                name: g.street_name,
            },
            district: OrgRef {
                code: g.district_code.to_string(),
                name: g.district_name,
            },
            building_count: g.building_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BoundaryVersionDto {
    pub version: i64,
    pub valid_from: String,
    /// `null` for the boundary in force.
    pub valid_to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BuildingDto {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub address: String,
    pub lon: f64,
    pub lat: f64,
    pub floors: i64,
    /// `residential`, `commercial`, `mixed` or `public`.
    pub building_use: String,
    pub unit_count: i64,
}

impl From<Building> for BuildingDto {
    fn from(b: Building) -> Self {
        Self {
            id: b.id,
            number: b.number,
            name: b.name,
            address: b.address,
            lon: b.location.lon,
            lat: b.location.lat,
            floors: b.floors,
            building_use: b.building_use.as_str().to_owned(),
            unit_count: b.unit_count,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GridDetailDto {
    #[serde(flatten)]
    pub grid: GridDto,
    /// The boundary in force, a GeoJSON Polygon or MultiPolygon (WGS-84).
    #[schema(value_type = Object)]
    pub boundary: Option<Value>,
    /// Every drawing of the boundary, newest first.
    pub history: Vec<BoundaryVersionDto>,
    pub buildings: Vec<BuildingDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocateDto {
    /// `inside` or `outside` (the point is in no grid).
    pub result: &'static str,
    pub grid: Option<GridDto>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Query strings arrive as text and are checked here, so that a bad value
/// gets the API's own error, naming the field, in the reader's language.
fn bad_query(lang: Lang) -> impl FnOnce(QueryRejection) -> ApiError {
    move |e| {
        ApiError::new(
            AppError::invalid(
                "query",
                e.body_text(),
                format!("查询参数格式错误：{}", e.body_text()),
            ),
            lang,
        )
    }
}

/// Communities with their street, district and number of grids.
#[utoipa::path(get, path = "/api/v1/communities", responses((status = 200, body = [CommunityDto])))]
pub async fn list_communities(
    State(app): State<Arc<App>>,
    UiLang(lang): UiLang,
) -> Result<Json<Vec<CommunityDto>>, ApiError> {
    let list = app
        .list_communities()
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct GridListQuery {
    /// Only the grids of this community (12-digit code).
    pub community: Option<String>,
}

/// Grids in code order, with their place in the hierarchy.
#[utoipa::path(get, path = "/api/v1/grids", params(GridListQuery), responses(
    (status = 200, body = [GridDto]), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody)
))]
pub async fn list_grids(
    State(app): State<Arc<App>>,
    UiLang(lang): UiLang,
    query: Result<Query<GridListQuery>, QueryRejection>,
) -> Result<Json<Vec<GridDto>>, ApiError> {
    let Query(query) = query.map_err(bad_query(lang))?;
    let community = nonempty(&query.community)
        .map(|c| {
            CommunityCode::parse(c).map_err(|e| {
                AppError::invalid("community", e.localized(Lang::En), e.localized(Lang::Zh))
            })
        })
        .transpose()
        .map_err(|e| ApiError::new(e, lang))?;
    if let Some(code) = &community {
        app.community(code)
            .await
            .map_err(|e| ApiError::new(e, lang))?;
    }
    let grids = app
        .list_grids(community.as_ref())
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(grids.into_iter().map(Into::into).collect()))
}

/// A grid with its boundary (GeoJSON), boundary history and buildings.
#[utoipa::path(get, path = "/api/v1/grids/{id}", params(("id" = i64, Path)), responses(
    (status = 200, body = GridDetailDto), (status = 404, body = ErrorBody)
))]
pub async fn get_grid(
    State(app): State<Arc<App>>,
    UiLang(lang): UiLang,
    Path(id): Path<String>,
) -> Result<Json<GridDetailDto>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::new(AppError::NotFound(Resource::Grid), lang))?;
    let d = app
        .grid_detail(id)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(GridDetailDto {
        grid: d.summary.into(),
        boundary: d.boundary,
        history: d
            .history
            .into_iter()
            .map(|v| BoundaryVersionDto {
                version: v.version,
                valid_from: v.valid_from.to_string(),
                valid_to: v.valid_to.map(|t| t.to_string()),
            })
            .collect(),
        buildings: d.buildings.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct LocateQuery {
    /// Latitude, WGS-84.
    #[param(value_type = f64, required = true)]
    pub lat: Option<String>,
    /// Longitude, WGS-84.
    #[param(value_type = f64, required = true)]
    pub lon: Option<String>,
    /// An RFC 3339 instant or a date: which grid held the point then (default now).
    pub at: Option<String>,
}

/// Parses `lat`, `lon` and `at` of a locate request.
pub fn parse_locate(q: &LocateQuery) -> Result<(GeoPoint, Option<Timestamp>), AppError> {
    let number = |name: &'static str, value: &Option<String>| -> Result<f64, AppError> {
        let raw = nonempty(value).ok_or_else(|| {
            AppError::invalid(
                name,
                format!("{name} is required"),
                format!("缺少参数 {name}"),
            )
        })?;
        raw.parse::<f64>().map_err(|_| {
            AppError::invalid(
                name,
                format!("{name} must be a number, got {raw:?}"),
                format!("{name} 必须是数字，收到 {raw:?}"),
            )
        })
    };
    let lat = number("lat", &q.lat)?;
    let lon = number("lon", &q.lon)?;
    let point = GeoPoint::new(lon, lat).map_err(|e| {
        let field = match e {
            wangge_core::PointError::LongitudeOutOfRange(_) => "lon",
            _ => "lat",
        };
        AppError::invalid(field, e.localized(Lang::En), e.localized(Lang::Zh))
    })?;
    let at = nonempty(&q.at)
        .map(|raw| {
            parse_instant(raw).ok_or_else(|| {
                AppError::invalid(
                    "at",
                    format!("at must be an RFC 3339 time or a date (YYYY-MM-DD), got {raw:?}"),
                    format!("at 必须是 RFC 3339 时间或日期（YYYY-MM-DD），收到 {raw:?}"),
                )
            })
        })
        .transpose()?;
    Ok((point, at))
}

/// An RFC 3339 instant, or a date meaning its midnight in China (UTC+8).
pub fn parse_instant(raw: &str) -> Option<Timestamp> {
    raw.parse::<Timestamp>().ok().or_else(|| {
        let date: jiff::civil::Date = raw.parse().ok()?;
        jiff::tz::Offset::constant(8)
            .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
            .ok()
    })
}

/// Which grid holds a point (now, or at a past instant). A point in no
/// grid is an answer (`outside`), not an error.
#[utoipa::path(get, path = "/api/v1/grids/locate", params(LocateQuery), responses(
    (status = 200, body = LocateDto), (status = 422, body = ErrorBody)
))]
pub async fn locate(
    State(app): State<Arc<App>>,
    UiLang(lang): UiLang,
    query: Result<Query<LocateQuery>, QueryRejection>,
) -> Result<Json<LocateDto>, ApiError> {
    let Query(query) = query.map_err(bad_query(lang))?;
    let (point, at) = parse_locate(&query).map_err(|e| ApiError::new(e, lang))?;
    let located = app
        .locate(point, at)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(match located {
        Located::Inside { grid } => LocateDto {
            result: "inside",
            grid: Some((*grid).into()),
        },
        Located::Outside => LocateDto {
            result: "outside",
            grid: None,
        },
    }))
}
