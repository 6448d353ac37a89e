//! The JSON API of sign-in and the register. Every register answer comes
//! from a use case that applies the access policy; records out of scope
//! answer 404, sensitive fields are masked unless revealed (audited).

use axum::Json;
use axum::Router;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use wangge_app::register::{Page, ResidentView, SensitiveField};
use wangge_app::{AppError, Resource, UserView};
use wangge_core::Lang;
use wangge_core::org::Id;
use wangge_core::register::{Business, BusinessForm, Household, ResidentForm, Tag};

use crate::api::BuildingDto;
use crate::error::{ApiError, ErrorBody};
use crate::lang::UiLang;
use crate::session::{ApiSession, AppState, SESSION_COOKIE, cookie_in, secure, session_cookie};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
        .route("/api/v1/auth/password", post(change_password))
        .route(
            "/api/v1/grids/{id}/buildings",
            get(grid_buildings).post(create_building),
        )
        .route("/api/v1/buildings/{id}", get(building).put(update_building))
        .route(
            "/api/v1/households",
            get(list_households).post(create_household),
        )
        .route(
            "/api/v1/households/{id}",
            get(household).put(update_household),
        )
        .route("/api/v1/households/{id}/residents", post(create_resident))
        .route("/api/v1/residents", get(list_residents))
        .route(
            "/api/v1/residents/{id}",
            get(resident).put(update_resident).delete(delete_resident),
        )
        .route("/api/v1/residents/{id}/reveal", post(reveal_resident))
        .route(
            "/api/v1/businesses",
            get(list_businesses).post(create_business),
        )
        .route(
            "/api/v1/businesses/{id}",
            get(business).put(update_business),
        )
        .route("/api/v1/businesses/{id}/reveal", post(reveal_business))
}

fn body(lang: Lang) -> impl FnOnce(JsonRejection) -> ApiError {
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

fn query(lang: Lang) -> impl FnOnce(QueryRejection) -> ApiError {
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

fn id(raw: &str, what: Resource, lang: Lang) -> Result<Id, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::new(AppError::NotFound(what), lang))
}

// ---- Sign-in

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// `admin`, `street_officer`, `community_secretary`, `grid_leader`,
    /// `grid_worker`, `unit_leader`, `volunteer`, `department_staff`, `resident`.
    pub role: String,
    pub must_change_password: bool,
    pub grids: Vec<i64>,
    pub communities: Vec<i64>,
    pub streets: Vec<i64>,
    pub departments: Vec<i64>,
}

impl From<UserView> for UserDto {
    fn from(u: UserView) -> Self {
        Self {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            role: u.role.as_str().to_owned(),
            must_change_password: u.must_change_password,
            grids: u.grids,
            communities: u.communities,
            streets: u.streets,
            departments: u.departments,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`; browsers get it as a cookie too.
    pub token: String,
    /// Send as `X-CSRF-Token` with unsafe requests that use the cookie.
    pub csrf_token: String,
    pub user: UserDto,
}

/// Signs in: returns a token and sets the session cookie. The session id is
/// new at every login; 5 failures lock the account for 30 minutes.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse), (status = 401, body = ErrorBody)
))]
pub async fn login(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    headers: HeaderMap,
    req: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = req.map_err(body(lang))?;
    let previous = cookie_in(&headers, SESSION_COOKIE);
    let ok = state
        .app
        .login(&req.username, &req.password, previous.as_deref())
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    let set = session_cookie(Some(&ok.token), secure(&headers, state.config));
    let body = LoginResponse {
        token: ok.token,
        csrf_token: ok.csrf_token,
        user: ok.user.into(),
    };
    Ok(([(SET_COOKIE, set)], Json(body)).into_response())
}

/// Ends the session (token and cookie).
#[utoipa::path(post, path = "/api/v1/auth/logout", responses((status = 204), (status = 401, body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    headers: HeaderMap,
    ApiSession(session): ApiSession,
) -> Result<Response, ApiError> {
    state
        .app
        .logout(&session)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    let clear = session_cookie(None, secure(&headers, state.config));
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, clear)]).into_response())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    pub user: UserDto,
    pub csrf_token: String,
}

/// The signed-in user, and the CSRF token of this session.
#[utoipa::path(get, path = "/api/v1/auth/me", responses((status = 200, body = MeResponse), (status = 401, body = ErrorBody)))]
pub async fn me(ApiSession(session): ApiSession) -> Json<MeResponse> {
    Json(MeResponse {
        user: session.user.into(),
        csrf_token: session.csrf_token,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Changes one's password; every session of the user ends.
#[utoipa::path(post, path = "/api/v1/auth/password", request_body = PasswordRequest, responses(
    (status = 204), (status = 422, body = ErrorBody)
))]
pub async fn change_password(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(session): ApiSession,
    req: Result<Json<PasswordRequest>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let Json(req) = req.map_err(body(lang))?;
    state
        .app
        .change_password(&session, &req.current_password, &req.new_password)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Buildings

#[derive(Debug, Serialize, ToSchema)]
pub struct DwellingDto {
    pub id: i64,
    pub floor: i64,
    pub number: String,
    /// `own`, `rent`, `vacant` or `commercial`.
    pub dwelling_use: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitDto {
    pub id: i64,
    pub number: i64,
    pub floors: i64,
    pub dwellings: Vec<DwellingDto>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BuildingDetailDto {
    #[serde(flatten)]
    pub building: BuildingDto,
    pub units: Vec<UnitDto>,
}

/// Buildings of a grid in the caller's scope.
#[utoipa::path(get, path = "/api/v1/grids/{id}/buildings", params(("id" = i64, Path)), responses(
    (status = 200, body = [BuildingDto]), (status = 404, body = ErrorBody)
))]
pub async fn grid_buildings(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<Json<Vec<BuildingDto>>, ApiError> {
    let grid = id(&raw, Resource::Grid, lang)?;
    let list = state
        .app
        .buildings(&s.actor, grid)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// A building with its units and dwellings.
#[utoipa::path(get, path = "/api/v1/buildings/{id}", params(("id" = i64, Path)), responses(
    (status = 200, body = BuildingDetailDto), (status = 404, body = ErrorBody)
))]
pub async fn building(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<Json<BuildingDetailDto>, ApiError> {
    let bid = id(&raw, Resource::Building, lang)?;
    let (b, units) = state
        .app
        .building_detail(&s.actor, bid)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(BuildingDetailDto {
        building: b.into(),
        units: units
            .into_iter()
            .map(|(u, ds)| UnitDto {
                id: u.id,
                number: u.number,
                floors: u.floors,
                dwellings: ds
                    .into_iter()
                    .map(|d| DwellingDto {
                        id: d.id,
                        floor: d.floor,
                        number: d.number,
                        dwelling_use: d.dwelling_use.as_str().to_owned(),
                    })
                    .collect(),
            })
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUnitBody {
    pub floors: i64,
    pub dwellings_per_floor: i64,
}

/// A building to register; its position must lie in the grid.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewBuildingBody {
    /// The number painted on it, unique in the community (e.g. `13`).
    pub number: String,
    /// Default: `{number}栋`.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: String,
    pub lon: f64,
    pub lat: f64,
    pub floors: i64,
    /// `residential`, `commercial`, `mixed` or `public`.
    pub building_use: String,
    /// Units numbered 1, 2, … in this order.
    pub units: Vec<NewUnitBody>,
}

/// Registers a building with its units in a grid of the caller's scope.
#[utoipa::path(post, path = "/api/v1/grids/{id}/buildings", params(("id" = i64, Path)), request_body = NewBuildingBody, responses(
    (status = 201, body = Created), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn create_building(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    req: Result<Json<NewBuildingBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let grid = id(&raw, Resource::Grid, lang)?;
    let Json(b) = req.map_err(body(lang))?;
    let form = wangge_app::register::BuildingForm {
        number: b.number,
        name: b.name,
        address: b.address,
        lon: b.lon,
        lat: b.lat,
        floors: b.floors,
        building_use: b.building_use,
        units: b
            .units
            .into_iter()
            .map(|u| wangge_app::register::UnitForm {
                floors: u.floors,
                dwellings_per_floor: u.dwellings_per_floor,
            })
            .collect(),
    };
    let id = state
        .app
        .create_building(&s.actor, grid, &form)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BuildingUpdate {
    pub name: String,
    pub address: String,
    pub floors: i64,
    pub building_use: String,
}

/// Changes a building's name, address, floors and use.
#[utoipa::path(put, path = "/api/v1/buildings/{id}", params(("id" = i64, Path)), request_body = BuildingUpdate, responses(
    (status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn update_building(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    req: Result<Json<BuildingUpdate>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let bid = id(&raw, Resource::Building, lang)?;
    let Json(b) = req.map_err(body(lang))?;
    state
        .app
        .update_building(
            &s.actor,
            bid,
            &b.name,
            &b.address,
            b.floors,
            &b.building_use,
        )
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Households

#[derive(Debug, Serialize, ToSchema)]
pub struct HouseholdDto {
    pub id: i64,
    pub grid_id: i64,
    pub dwelling_id: Option<i64>,
    pub address: String,
    pub member_count: i64,
    pub head_name: Option<String>,
}

impl From<Household> for HouseholdDto {
    fn from(h: Household) -> Self {
        Self {
            id: h.id,
            grid_id: h.grid_id,
            dwelling_id: h.dwelling_id,
            address: h.address,
            member_count: h.member_count,
            head_name: h.head_name,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only this grid.
    pub grid: Option<i64>,
    /// Only this unit (households) or household (residents).
    pub unit: Option<i64>,
    pub household: Option<i64>,
    /// A full ID number: exact lookup through the blind index.
    pub id_number: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Households in the caller's scope.
#[utoipa::path(get, path = "/api/v1/households", params(ListQuery), responses((status = 200, body = [HouseholdDto])))]
pub async fn list_households(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<HouseholdDto>>, ApiError> {
    let Query(q) = q.map_err(query(lang))?;
    let list = state
        .app
        .households(&s.actor, q.grid, q.unit, Page::new(q.limit, q.offset))
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewHousehold {
    pub grid_id: i64,
    pub dwelling_id: Option<i64>,
    pub address: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Registers a household in a grid of the caller's scope.
#[utoipa::path(post, path = "/api/v1/households", request_body = NewHousehold, responses(
    (status = 201, body = Created), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn create_household(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    req: Result<Json<NewHousehold>, JsonRejection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let Json(req) = req.map_err(body(lang))?;
    let id = state
        .app
        .create_household(&s.actor, req.grid_id, req.dwelling_id, &req.address)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, path = "/api/v1/households/{id}", params(("id" = i64, Path)), responses(
    (status = 200, body = HouseholdDto), (status = 404, body = ErrorBody)
))]
pub async fn household(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<Json<HouseholdDto>, ApiError> {
    let hid = id(&raw, Resource::Household, lang)?;
    let h = state
        .app
        .household(&s.actor, hid)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(h.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct HouseholdUpdate {
    pub address: String,
}

/// Changes a household's address.
#[utoipa::path(put, path = "/api/v1/households/{id}", params(("id" = i64, Path)), request_body = HouseholdUpdate, responses(
    (status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn update_household(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    req: Result<Json<HouseholdUpdate>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let hid = id(&raw, Resource::Household, lang)?;
    let Json(req) = req.map_err(body(lang))?;
    state
        .app
        .update_household(&s.actor, hid, &req.address)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- Residents

#[derive(Debug, Serialize, ToSchema)]
pub struct ResidentDto {
    pub id: i64,
    pub household_id: i64,
    pub grid_id: i64,
    pub name: String,
    /// `male` or `female`, from the ID number.
    pub gender: String,
    /// From the ID number.
    pub birth_date: String,
    pub age: i16,
    /// Under 14: the record needs the stricter permission.
    pub is_minor: bool,
    /// First 3 and last 4 characters only.
    pub id_number: String,
    /// `138****1234`.
    pub phone: Option<String>,
    pub ethnicity: String,
    pub residence_type: String,
    pub relation: String,
    pub political_status: String,
    #[schema(value_type = Vec<Object>)]
    pub tags: Vec<Tag>,
    /// Send back with an update; a stale version is refused (409).
    pub version: i64,
}

impl From<ResidentView> for ResidentDto {
    fn from(v: ResidentView) -> Self {
        let r = v.resident;
        Self {
            id: r.id,
            household_id: r.household_id,
            grid_id: r.grid_id,
            name: r.name,
            gender: match r.gender {
                wangge_core::idnumber::Gender::Male => "male".into(),
                wangge_core::idnumber::Gender::Female => "female".into(),
            },
            birth_date: r.birth_date.to_string(),
            age: v.age,
            is_minor: v.is_minor,
            id_number: r.id_number_masked,
            phone: r.phone_masked,
            ethnicity: r.ethnicity,
            residence_type: r.residence_type.as_str().into(),
            relation: r.relation.as_str().into(),
            political_status: r.political_status.as_str().into(),
            tags: r.tags,
            version: r.version,
        }
    }
}

/// A resident as sent: the full ID number (validated, GB 11643), phone
/// optional. Birth date and gender come from the ID number.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResidentBody {
    pub name: String,
    pub id_number: String,
    pub phone: Option<String>,
    /// One of the 56 ethnic groups, as on ID cards (e.g. `汉族`).
    pub ethnicity: String,
    /// `registered`, `resident`, `floating` or `separated`.
    pub residence_type: String,
    /// `head`, `spouse`, `child`, `parent`, `grandchild`, `grandparent`, `sibling`, `in_law`, `other`.
    pub relation: String,
    /// `party_member`, `probationary_member`, `league_member`, `masses`, `other`.
    pub political_status: String,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub tags: Vec<Tag>,
    /// Required on update: the version read.
    pub version: Option<i64>,
}

impl ResidentBody {
    fn form(&self) -> ResidentForm {
        ResidentForm {
            name: self.name.clone(),
            id_number: self.id_number.clone(),
            phone: self.phone.clone(),
            ethnicity: self.ethnicity.clone(),
            residence_type: self.residence_type.clone(),
            relation: self.relation.clone(),
            political_status: self.political_status.clone(),
            tags: self.tags.clone(),
        }
    }
}

/// Residents in the caller's scope (of a household or grid), or the one
/// with a given full ID number.
#[utoipa::path(get, path = "/api/v1/residents", params(ListQuery), responses((status = 200, body = [ResidentDto])))]
pub async fn list_residents(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<ResidentDto>>, ApiError> {
    let Query(q) = q.map_err(query(lang))?;
    let list = match q.id_number.as_deref().filter(|v| !v.trim().is_empty()) {
        Some(number) => state
            .app
            .find_resident_by_id_number(&s.actor, number)
            .await
            .map(|r| r.into_iter().collect()),
        None => {
            state
                .app
                .residents(&s.actor, q.household, q.grid, Page::new(q.limit, q.offset))
                .await
        }
    }
    .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Registers a resident in a household of the caller's scope.
#[utoipa::path(post, path = "/api/v1/households/{id}/residents", params(("id" = i64, Path)), request_body = ResidentBody, responses(
    (status = 201, body = Created), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn create_resident(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    req: Result<Json<ResidentBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let hid = id(&raw, Resource::Household, lang)?;
    let Json(req) = req.map_err(body(lang))?;
    let id = state
        .app
        .create_resident(&s.actor, hid, &req.form())
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, path = "/api/v1/residents/{id}", params(("id" = i64, Path)), responses(
    (status = 200, body = ResidentDto), (status = 404, body = ErrorBody)
))]
pub async fn resident(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<Json<ResidentDto>, ApiError> {
    let rid = id(&raw, Resource::Resident, lang)?;
    let r = state
        .app
        .resident(&s.actor, rid)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(r.into()))
}

/// Replaces a resident's fields; `version` must be the one read.
#[utoipa::path(put, path = "/api/v1/residents/{id}", params(("id" = i64, Path)), request_body = ResidentBody, responses(
    (status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn update_resident(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    req: Result<Json<ResidentBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let rid = id(&raw, Resource::Resident, lang)?;
    let Json(req) = req.map_err(body(lang))?;
    let version = req.version.ok_or_else(|| {
        ApiError::new(
            AppError::invalid("version", "version is required", "缺少 version"),
            lang,
        )
    })?;
    state
        .app
        .update_resident(&s.actor, rid, version, &req.form())
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteRequest {
    /// Why the resident leaves the register (moved away, deceased …); audited.
    pub reason: String,
}

/// Takes a resident off the register, with a reason.
#[utoipa::path(delete, path = "/api/v1/residents/{id}", params(("id" = i64, Path)), request_body = DeleteRequest, responses(
    (status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn delete_resident(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    req: Result<Json<DeleteRequest>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let rid = id(&raw, Resource::Resident, lang)?;
    let Json(req) = req.map_err(body(lang))?;
    state
        .app
        .delete_resident(&s.actor, rid, &req.reason)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevealRequest {
    /// `id_number` or `phone`.
    #[schema(value_type = String)]
    pub field: Option<SensitiveField>,
    /// Why the full value is needed; kept in the audit log.
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevealResponse {
    pub field: String,
    /// The full value; `null` when none is recorded.
    pub value: Option<String>,
}

/// Shows a full ID or phone number to a role allowed to see it, for a
/// reason; every reveal is audited.
#[utoipa::path(post, path = "/api/v1/residents/{id}/reveal", params(("id" = i64, Path)), request_body = RevealRequest, responses(
    (status = 200, body = RevealResponse), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn reveal_resident(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    req: Result<Json<RevealRequest>, JsonRejection>,
) -> Result<Json<RevealResponse>, ApiError> {
    let rid = id(&raw, Resource::Resident, lang)?;
    let Json(req) = req.map_err(body(lang))?;
    let field = req.field.unwrap_or(SensitiveField::IdNumber);
    let value = state
        .app
        .reveal_resident(&s.actor, rid, field, &req.reason)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(RevealResponse {
        field: match field {
            SensitiveField::IdNumber => "id_number".into(),
            SensitiveField::Phone => "phone".into(),
        },
        value,
    }))
}

// ---- Businesses

#[derive(Debug, Serialize, ToSchema)]
pub struct BusinessDto {
    pub id: i64,
    pub grid_id: i64,
    pub name: String,
    /// Unified social credit code (public).
    pub credit_code: String,
    pub legal_rep: String,
    pub phone: Option<String>,
    pub address: String,
    pub opening_date: Option<String>,
    /// `open`, `moved` or `closed`.
    pub status: String,
    /// Government-app registration: `registered`, `pending` or `unable`.
    pub app_status: String,
    /// Why not: `id_card_replaced`, `owner_away`, `business_moved`, `no_smartphone`, `other`.
    pub app_reason: Option<String>,
    pub app_note: String,
    pub version: i64,
}

impl From<Business> for BusinessDto {
    fn from(b: Business) -> Self {
        Self {
            id: b.id,
            grid_id: b.grid_id,
            name: b.name,
            credit_code: b.credit_code,
            legal_rep: b.legal_rep,
            phone: b.phone_masked,
            address: b.address,
            opening_date: b.opening_date.map(|d| d.to_string()),
            status: b.status.as_str().into(),
            app_status: b.app_status.as_str().into(),
            app_reason: b.app_reason.map(|r| r.as_str().into()),
            app_note: b.app_note,
            version: b.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BusinessBody {
    /// Required on create.
    pub grid_id: Option<i64>,
    pub name: String,
    pub credit_code: String,
    pub legal_rep: String,
    pub phone: Option<String>,
    pub address: String,
    /// `YYYY-MM-DD`.
    pub opening_date: Option<String>,
    pub status: String,
    pub app_status: String,
    pub app_reason: Option<String>,
    #[serde(default)]
    pub app_note: String,
    /// Required on update: the version read.
    pub version: Option<i64>,
}

impl BusinessBody {
    fn form(&self) -> BusinessForm {
        BusinessForm {
            name: self.name.clone(),
            credit_code: self.credit_code.clone(),
            legal_rep: self.legal_rep.clone(),
            phone: self.phone.clone(),
            address: self.address.clone(),
            opening_date: self.opening_date.clone(),
            status: self.status.clone(),
            app_status: self.app_status.clone(),
            app_reason: self.app_reason.clone(),
            app_note: self.app_note.clone(),
        }
    }
}

/// Businesses in the caller's scope.
#[utoipa::path(get, path = "/api/v1/businesses", params(ListQuery), responses((status = 200, body = [BusinessDto])))]
pub async fn list_businesses(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<BusinessDto>>, ApiError> {
    let Query(q) = q.map_err(query(lang))?;
    let list = state
        .app
        .businesses(&s.actor, q.grid, Page::new(q.limit, q.offset))
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/businesses", request_body = BusinessBody, responses(
    (status = 201, body = Created), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn create_business(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    req: Result<Json<BusinessBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    let Json(req) = req.map_err(body(lang))?;
    let grid = req.grid_id.ok_or_else(|| {
        ApiError::new(
            AppError::invalid("grid_id", "grid_id is required", "缺少 grid_id"),
            lang,
        )
    })?;
    let id = state
        .app
        .create_business(&s.actor, grid, &req.form())
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, path = "/api/v1/businesses/{id}", params(("id" = i64, Path)), responses(
    (status = 200, body = BusinessDto), (status = 404, body = ErrorBody)
))]
pub async fn business(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
) -> Result<Json<BusinessDto>, ApiError> {
    let bid = id(&raw, Resource::Business, lang)?;
    let b = state
        .app
        .business(&s.actor, bid)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(b.into()))
}

#[utoipa::path(put, path = "/api/v1/businesses/{id}", params(("id" = i64, Path)), request_body = BusinessBody, responses(
    (status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)
))]
pub async fn update_business(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    req: Result<Json<BusinessBody>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let bid = id(&raw, Resource::Business, lang)?;
    let Json(req) = req.map_err(body(lang))?;
    let version = req.version.ok_or_else(|| {
        ApiError::new(
            AppError::invalid("version", "version is required", "缺少 version"),
            lang,
        )
    })?;
    state
        .app
        .update_business(&s.actor, bid, version, &req.form())
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Shows a business's full phone number, for a reason; audited.
#[utoipa::path(post, path = "/api/v1/businesses/{id}/reveal", params(("id" = i64, Path)), request_body = RevealRequest, responses(
    (status = 200, body = RevealResponse), (status = 404, body = ErrorBody)
))]
pub async fn reveal_business(
    State(state): State<AppState>,
    UiLang(lang): UiLang,
    ApiSession(s): ApiSession,
    Path(raw): Path<String>,
    req: Result<Json<RevealRequest>, JsonRejection>,
) -> Result<Json<RevealResponse>, ApiError> {
    let bid = id(&raw, Resource::Business, lang)?;
    let Json(req) = req.map_err(body(lang))?;
    let value = state
        .app
        .reveal_business_phone(&s.actor, bid, &req.reason)
        .await
        .map_err(|e| ApiError::new(e, lang))?;
    Ok(Json(RevealResponse {
        field: "phone".into(),
        value,
    }))
}
