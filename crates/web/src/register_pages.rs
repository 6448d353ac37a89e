//! Pages of sign-in and of the register, for a grid worker on her phone:
//! my grids → buildings → units → households → residents, with resident
//! and business detail and edit forms. Every POST checks the form's CSRF
//! token; every read goes through the access policy.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use wangge_app::register::{Page, ResidentView, SensitiveField};
use wangge_app::{AppError, Resource, Session};
use wangge_core::org::Id;
use wangge_core::register::{
    AppReason, AppStatus, BusinessForm, BusinessStatus, DisabilityCategory, ETHNICITIES,
    PoliticalStatus, Relation, ResidenceType, ResidentForm, Tag, TagKind,
};
use wangge_core::{Lang, Localized};

use crate::lang::PageLang;
use crate::nav::Nav;
use crate::pages::{error_page_with, render};
use crate::session::{
    AppState, PageSession, SESSION_COOKIE, check_form_csrf, cookie_in, secure, session_cookie,
};
use crate::texts::{Texts, building_use, texts};

const LOGIN_CSRF_COOKIE: &str = "wangge_login_csrf";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route(
            "/account/password",
            get(password_page).post(password_submit),
        )
        .route("/my", get(my))
        .route("/register/grids/{id}", get(reg_grid))
        .route("/register/grids/{id}/businesses", get(reg_businesses))
        .route("/register/buildings/{id}", get(reg_building))
        .route("/register/households/{id}", get(reg_household))
        .route(
            "/register/households/{id}/residents/new",
            get(new_resident).post(create_resident),
        )
        .route("/register/residents/{id}", get(reg_resident))
        .route(
            "/register/residents/{id}/edit",
            get(edit_resident).post(save_resident),
        )
        .route("/register/residents/{id}/reveal", post(reveal_resident))
        .route("/register/businesses/{id}", get(reg_business))
        .route(
            "/register/businesses/{id}/edit",
            get(edit_business).post(save_business),
        )
        .route("/register/businesses/{id}/reveal", post(reveal_business))
}

/// Form fields, repeated keys kept (checkbox groups).
struct Fields(Vec<(String, String)>);

impl Fields {
    fn parse(body: &[u8]) -> Self {
        Fields(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }
    fn get(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
    fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn opt(&self, key: &str) -> Option<String> {
        Some(self.get(key)).filter(|v| !v.trim().is_empty())
    }
}

fn parse_id(raw: &str, what: Resource) -> Result<Id, AppError> {
    raw.parse().map_err(|_| AppError::NotFound(what))
}

/// A page, or the error page with the status the error calls for.
fn page_or_error(lang: Lang, session: &Session, page: Result<impl Template, AppError>) -> Response {
    match page {
        Ok(p) => render(&p),
        Err(e) => fail(lang, session, &e),
    }
}

fn fail(lang: Lang, session: &Session, e: &AppError) -> Response {
    error_page_with(lang, Nav::of(Some(session)), e)
}

fn options<T: Copy>(
    all: &[T],
    value: fn(T) -> &'static str,
    label: fn(T, Lang) -> &'static str,
    lang: Lang,
) -> Vec<(String, String)> {
    all.iter()
        .map(|v| (value(*v).to_owned(), label(*v, lang).to_owned()))
        .collect()
}

// ---- Sign-in

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: &'static Texts,
    nav: Nav,
    csrf: String,
    next: String,
    username: String,
    error: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    next: Option<String>,
    changed: Option<String>,
}

/// Only same-site paths: never send a person elsewhere after login.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_owned()
    } else {
        "/my".to_owned()
    }
}

fn login_form(
    lang: Lang,
    headers: &HeaderMap,
    state: &AppState,
    next: &str,
    username: &str,
    error: Option<String>,
    message: Option<String>,
) -> Response {
    let csrf = wangge_app::auth::new_token().unwrap_or_default();
    let sec = if secure(headers, state.config) {
        "; Secure"
    } else {
        ""
    };
    let cookie = HeaderValue::from_str(&format!(
        "{LOGIN_CSRF_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict{sec}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""));
    let page = LoginPage {
        t: texts(lang),
        nav: Nav::default(),
        csrf,
        next: safe_next(next),
        username: username.to_owned(),
        error,
        message,
    };
    let status = if page.error.is_some() {
        axum::http::StatusCode::UNAUTHORIZED
    } else {
        axum::http::StatusCode::OK
    };
    (status, [(SET_COOKIE, cookie)], render(&page)).into_response()
}

async fn login_page(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    q: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let message = q.changed.map(|_| texts(lang).password_changed.to_owned());
    login_form(
        lang,
        &headers,
        &state,
        q.next.as_deref().unwrap_or("/my"),
        "",
        None,
        message,
    )
}

async fn login_submit(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let f = Fields::parse(&body);
    let next = f.get("next");
    let username = f.get("username");
    let expected = cookie_in(&headers, LOGIN_CSRF_COOKIE);
    if expected.is_none() || expected.as_deref() != Some(f.get("_csrf").as_str()) {
        return login_form(
            lang,
            &headers,
            &state,
            &next,
            &username,
            Some(AppError::Csrf.localized(lang)),
            None,
        );
    }
    let previous = cookie_in(&headers, SESSION_COOKIE);
    match state
        .app
        .login(&username, &f.get("password"), previous.as_deref())
        .await
    {
        Ok(ok) => {
            let set = session_cookie(Some(&ok.token), secure(&headers, state.config));
            ([(SET_COOKIE, set)], Redirect::to(&safe_next(&next))).into_response()
        }
        Err(e) => login_form(
            lang,
            &headers,
            &state,
            &next,
            &username,
            Some(e.localized(lang)),
            None,
        ),
    }
}

async fn logout(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    headers: HeaderMap,
    PageSession(s): PageSession,
    body: Bytes,
) -> Response {
    let f = Fields::parse(&body);
    if let Err(e) = check_form_csrf(&s, &f.get("_csrf")) {
        return fail(lang, &s, &e);
    }
    if let Err(e) = state.app.logout(&s).await {
        return fail(lang, &s, &e);
    }
    let clear = session_cookie(None, secure(&headers, state.config));
    ([(SET_COOKIE, clear)], Redirect::to("/login")).into_response()
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    t: &'static Texts,
    nav: Nav,
    errors: Vec<(String, String)>,
}

async fn password_page(PageLang(lang): PageLang, PageSession(s): PageSession) -> Response {
    render(&PasswordPage {
        t: texts(lang),
        nav: Nav::of(Some(&s)),
        errors: Vec::new(),
    })
}

fn field_list(e: &AppError, lang: Lang) -> Vec<(String, String)> {
    let list: Vec<(String, String)> = e
        .field_errors()
        .into_iter()
        .map(|f| (f.field.to_owned(), f.message(lang).to_owned()))
        .collect();
    if list.is_empty() {
        vec![(String::new(), e.localized(lang))]
    } else {
        list
    }
}

async fn password_submit(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    body: Bytes,
) -> Response {
    let f = Fields::parse(&body);
    if let Err(e) = check_form_csrf(&s, &f.get("_csrf")) {
        return fail(lang, &s, &e);
    }
    match state
        .app
        .change_password(&s, &f.get("current_password"), &f.get("new_password"))
        .await
    {
        // Changing the password ends every session: sign in again.
        Ok(()) => Redirect::to("/login?changed=1").into_response(),
        Err(e) => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            render(&PasswordPage {
                t: texts(lang),
                nav: Nav::of(Some(&s)),
                errors: field_list(&e, lang),
            }),
        )
            .into_response(),
    }
}

// ---- My work

#[derive(Template)]
#[template(path = "my.html")]
struct MyPage {
    t: &'static Texts,
    nav: Nav,
    role: String,
    grids: Vec<wangge_core::org::GridSummary>,
}

async fn my(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
) -> Response {
    match state.app.my_grids(&s.actor).await {
        Ok(grids) => render(&MyPage {
            t: texts(lang),
            nav: Nav::of(Some(&s)),
            role: format!("{} · {}", s.user.display_name, s.actor.role.label(lang)),
            grids,
        }),
        Err(e) => fail(lang, &s, &e),
    }
}

struct BuildingRow {
    id: Id,
    name: String,
    use_label: &'static str,
    floors: i64,
    unit_count: i64,
}

#[derive(Template)]
#[template(path = "reg_grid.html")]
struct RegGridPage {
    t: &'static Texts,
    nav: Nav,
    grid: wangge_core::org::GridSummary,
    buildings: Vec<BuildingRow>,
}

async fn reg_grid(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
) -> Response {
    let result = async {
        let id = parse_id(&raw, Resource::Grid)?;
        let buildings = state.app.buildings(&s.actor, id).await?;
        let grid = state.app.grid_detail(id).await?.summary;
        Ok::<_, AppError>(RegGridPage {
            t: texts(lang),
            nav: Nav::of(Some(&s)),
            grid,
            buildings: buildings
                .into_iter()
                .map(|b| BuildingRow {
                    id: b.id,
                    name: b.name,
                    use_label: building_use(lang, b.building_use),
                    floors: b.floors,
                    unit_count: b.unit_count,
                })
                .collect(),
        })
    }
    .await;
    page_or_error(lang, &s, result)
}

struct UnitRow {
    number: i64,
    households: Vec<wangge_core::register::Household>,
}

#[derive(Template)]
#[template(path = "reg_building.html")]
struct RegBuildingPage {
    t: &'static Texts,
    nav: Nav,
    grid_id: Id,
    name: String,
    address: String,
    units: Vec<UnitRow>,
}

async fn reg_building(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
) -> Response {
    let result = async {
        let id = parse_id(&raw, Resource::Building)?;
        let (b, units) = state.app.building_detail(&s.actor, id).await?;
        let mut rows = Vec::new();
        for (u, _) in units {
            let households = state
                .app
                .households(&s.actor, None, Some(u.id), Page::new(Some(200), None))
                .await?;
            rows.push(UnitRow {
                number: u.number,
                households,
            });
        }
        Ok::<_, AppError>(RegBuildingPage {
            t: texts(lang),
            nav: Nav::of(Some(&s)),
            grid_id: b.grid_id,
            name: b.name,
            address: b.address,
            units: rows,
        })
    }
    .await;
    page_or_error(lang, &s, result)
}

struct ResidentRow {
    id: Id,
    household_id: Id,
    name: String,
    gender: &'static str,
    birth_date: String,
    age: i16,
    is_minor: bool,
    id_masked: String,
    phone: Option<String>,
    ethnicity: String,
    residence_type: &'static str,
    relation: &'static str,
    political_status: &'static str,
    tags: String,
}

fn tag_label(tag: &Tag, lang: Lang) -> String {
    match tag {
        Tag::Disabled { category, grade } => format!(
            "{}（{}，{}级）",
            tag.kind().label(lang),
            category.label(lang),
            grade
        ),
        _ => tag.kind().label(lang).to_owned(),
    }
}

fn resident_row(v: &ResidentView, lang: Lang, t: &Texts) -> ResidentRow {
    let r = &v.resident;
    ResidentRow {
        id: r.id,
        household_id: r.household_id,
        name: r.name.clone(),
        gender: match r.gender {
            wangge_core::idnumber::Gender::Male => t.male,
            wangge_core::idnumber::Gender::Female => t.female,
        },
        birth_date: r.birth_date.to_string(),
        age: v.age,
        is_minor: v.is_minor,
        id_masked: r.id_number_masked.clone(),
        phone: r.phone_masked.clone(),
        ethnicity: r.ethnicity.clone(),
        residence_type: r.residence_type.label(lang),
        relation: r.relation.label(lang),
        political_status: r.political_status.label(lang),
        tags: r
            .tags
            .iter()
            .map(|t| tag_label(t, lang))
            .collect::<Vec<_>>()
            .join("、"),
    }
}

#[derive(Template)]
#[template(path = "reg_household.html")]
struct RegHouseholdPage {
    t: &'static Texts,
    nav: Nav,
    h: wangge_core::register::Household,
    residents: Vec<ResidentRow>,
}

async fn reg_household(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
) -> Response {
    let result = async {
        let id = parse_id(&raw, Resource::Household)?;
        let h = state.app.household(&s.actor, id).await?;
        let residents = state
            .app
            .residents(&s.actor, Some(id), None, Page::new(Some(200), None))
            .await?;
        let t = texts(lang);
        Ok::<_, AppError>(RegHouseholdPage {
            t,
            nav: Nav::of(Some(&s)),
            h,
            residents: residents.iter().map(|r| resident_row(r, lang, t)).collect(),
        })
    }
    .await;
    page_or_error(lang, &s, result)
}

#[derive(Template)]
#[template(path = "reg_resident.html")]
struct RegResidentPage {
    t: &'static Texts,
    nav: Nav,
    r: ResidentRow,
    revealed: Option<String>,
    error: Option<String>,
    message: Option<String>,
}

#[derive(Deserialize, Default)]
struct SavedQuery {
    saved: Option<String>,
}

async fn resident_page(
    state: &AppState,
    lang: Lang,
    s: &Session,
    raw: &str,
    revealed: Option<String>,
    error: Option<String>,
    message: Option<String>,
) -> Response {
    let result = async {
        let id = parse_id(raw, Resource::Resident)?;
        let v = state.app.resident(&s.actor, id).await?;
        Ok::<_, AppError>(RegResidentPage {
            t: texts(lang),
            nav: Nav::of(Some(s)),
            r: resident_row(&v, lang, texts(lang)),
            revealed,
            error,
            message,
        })
    }
    .await;
    page_or_error(lang, s, result)
}

async fn reg_resident(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    q: Result<Query<SavedQuery>, QueryRejection>,
) -> Response {
    let saved = q
        .ok()
        .and_then(|Query(q)| q.saved)
        .map(|_| texts(lang).saved.to_owned());
    resident_page(&state, lang, &s, &raw, None, None, saved).await
}

async fn reveal_resident(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    let f = Fields::parse(&body);
    if let Err(e) = check_form_csrf(&s, &f.get("_csrf")) {
        return fail(lang, &s, &e);
    }
    let field = if f.get("field") == "phone" {
        SensitiveField::Phone
    } else {
        SensitiveField::IdNumber
    };
    let Ok(id) = parse_id(&raw, Resource::Resident) else {
        return fail(lang, &s, &AppError::NotFound(Resource::Resident));
    };
    match state
        .app
        .reveal_resident(&s.actor, id, field, &f.get("reason"))
        .await
    {
        Ok(v) => {
            let shown = v.unwrap_or_else(|| texts(lang).none.to_owned());
            resident_page(&state, lang, &s, &raw, Some(shown), None, None).await
        }
        Err(e @ AppError::Invalid { .. }) => {
            resident_page(&state, lang, &s, &raw, None, Some(e.localized(lang)), None).await
        }
        Err(e) => fail(lang, &s, &e),
    }
}

// ---- Resident form

/// The form's values as typed, to show back with errors.
#[derive(Default)]
struct ResidentFormValues {
    name: String,
    id_number: String,
    phone: String,
    ethnicity: String,
    residence_type: String,
    relation: String,
    political_status: String,
}

#[derive(Template)]
#[template(path = "reg_resident_form.html")]
struct ResidentFormPage {
    t: &'static Texts,
    nav: Nav,
    title: String,
    action: String,
    household_id: Id,
    editing: bool,
    version: i64,
    masked_id: String,
    masked_phone: String,
    f: ResidentFormValues,
    errors: Vec<(String, String)>,
    ethnicities: &'static [&'static str],
    residence_types: Vec<(String, String)>,
    relations: Vec<(String, String)>,
    political: Vec<(String, String)>,
    tag_options: Vec<(String, String, bool)>,
    disability_categories: Vec<(String, String)>,
    disability_category: String,
    disability_grade: u8,
}

impl ResidentFormPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

#[allow(clippy::too_many_arguments)]
fn resident_form_page(
    lang: Lang,
    s: &Session,
    household_id: Id,
    editing: Option<(Id, i64, String, String)>,
    f: ResidentFormValues,
    tags: &[Tag],
    errors: Vec<(String, String)>,
) -> ResidentFormPage {
    let t = texts(lang);
    let (disability_category, disability_grade) = tags
        .iter()
        .find_map(|t| match t {
            Tag::Disabled { category, grade } => Some((category.as_str().to_owned(), *grade)),
            _ => None,
        })
        .unwrap_or_else(|| ("physical".to_owned(), 3));
    let (title, action, version, masked_id, masked_phone) = match &editing {
        Some((id, version, masked_id, masked_phone)) => (
            format!("{} · {}", t.edit, f.name),
            format!("/register/residents/{id}/edit"),
            *version,
            masked_id.clone(),
            masked_phone.clone(),
        ),
        None => (
            t.add_resident.to_owned(),
            format!("/register/households/{household_id}/residents/new"),
            0,
            String::new(),
            String::new(),
        ),
    };
    ResidentFormPage {
        t,
        nav: Nav::of(Some(s)),
        title,
        action,
        household_id,
        editing: editing.is_some(),
        version,
        masked_id,
        masked_phone,
        f,
        errors,
        ethnicities: ETHNICITIES,
        residence_types: options(
            ResidenceType::ALL,
            ResidenceType::as_str,
            ResidenceType::label,
            lang,
        ),
        relations: options(Relation::ALL, Relation::as_str, Relation::label, lang),
        political: options(
            PoliticalStatus::ALL,
            PoliticalStatus::as_str,
            PoliticalStatus::label,
            lang,
        ),
        tag_options: TagKind::ALL
            .iter()
            .map(|k| {
                (
                    k.as_str().to_owned(),
                    k.label(lang).to_owned(),
                    tags.iter().any(|t| t.kind() == *k),
                )
            })
            .collect(),
        disability_categories: options(
            DisabilityCategory::ALL,
            DisabilityCategory::as_str,
            DisabilityCategory::label,
            lang,
        ),
        disability_category,
        disability_grade,
    }
}

/// Tags from the checkboxes; details of tags already held are kept.
fn tags_from(f: &Fields, current: &[Tag]) -> Vec<Tag> {
    f.all("tag")
        .into_iter()
        .filter_map(TagKind::parse)
        .map(|kind| {
            if kind == TagKind::Disabled {
                let category = DisabilityCategory::parse(&f.get("disability_category"))
                    .unwrap_or(DisabilityCategory::Physical);
                let grade = f.get("disability_grade").parse().unwrap_or(0);
                return Tag::Disabled { category, grade };
            }
            if let Some(held) = current.iter().find(|t| t.kind() == kind) {
                return held.clone();
            }
            match kind {
                TagKind::FiveGuarantees => Tag::FiveGuarantees,
                TagKind::PovertyAlleviated => Tag::PovertyAlleviated { year: None },
                TagKind::Dibao => Tag::Dibao { certificate: None },
                TagKind::ElderlyAlone => Tag::ElderlyAlone,
                TagKind::EmptyNest => Tag::EmptyNest,
                TagKind::LeftBehindChild => Tag::LeftBehindChild { guardian: None },
                TagKind::PartyMemberInDifficulty => Tag::PartyMemberInDifficulty {
                    difficulty: String::new(),
                },
                TagKind::Veteran => Tag::Veteran,
                TagKind::CommunityCorrection => Tag::CommunityCorrection,
                TagKind::SeriousIllness => Tag::SeriousIllness { illness: None },
                TagKind::Disabled => Tag::Disabled {
                    category: DisabilityCategory::Physical,
                    grade: 3,
                },
            }
        })
        .collect()
}

fn resident_form_from(f: &Fields, current_tags: &[Tag]) -> (ResidentForm, ResidentFormValues) {
    let values = ResidentFormValues {
        name: f.get("name"),
        id_number: f.get("id_number"),
        phone: f.get("phone"),
        ethnicity: f.get("ethnicity"),
        residence_type: f.get("residence_type"),
        relation: f.get("relation"),
        political_status: f.get("political_status"),
    };
    let form = ResidentForm {
        name: values.name.clone(),
        id_number: values.id_number.clone(),
        phone: f.opt("phone"),
        ethnicity: values.ethnicity.clone(),
        residence_type: values.residence_type.clone(),
        relation: values.relation.clone(),
        political_status: values.political_status.clone(),
        tags: tags_from(f, current_tags),
    };
    (form, values)
}

async fn new_resident(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
) -> Response {
    let result = async {
        let hid = parse_id(&raw, Resource::Household)?;
        state.app.household(&s.actor, hid).await?;
        Ok::<_, AppError>(hid)
    }
    .await;
    match result {
        Ok(hid) => {
            let f = ResidentFormValues {
                ethnicity: "汉族".into(),
                residence_type: "registered".into(),
                relation: "other".into(),
                political_status: "masses".into(),
                ..ResidentFormValues::default()
            };
            render(&resident_form_page(lang, &s, hid, None, f, &[], Vec::new()))
        }
        Err(e) => fail(lang, &s, &e),
    }
}

async fn create_resident(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    let f = Fields::parse(&body);
    if let Err(e) = check_form_csrf(&s, &f.get("_csrf")) {
        return fail(lang, &s, &e);
    }
    let Ok(hid) = parse_id(&raw, Resource::Household) else {
        return fail(lang, &s, &AppError::NotFound(Resource::Household));
    };
    let (form, values) = resident_form_from(&f, &[]);
    match state.app.create_resident(&s.actor, hid, &form).await {
        Ok(id) => Redirect::to(&format!("/register/residents/{id}?saved=1")).into_response(),
        Err(e @ (AppError::InvalidFields(_) | AppError::Invalid { .. })) => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            render(&resident_form_page(
                lang,
                &s,
                hid,
                None,
                values,
                &form.tags,
                field_list(&e, lang),
            )),
        )
            .into_response(),
        Err(e) => fail(lang, &s, &e),
    }
}

async fn edit_resident(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
) -> Response {
    let result = async {
        let id = parse_id(&raw, Resource::Resident)?;
        state.app.resident(&s.actor, id).await
    }
    .await;
    match result {
        Ok(v) => {
            let r = &v.resident;
            let values = ResidentFormValues {
                name: r.name.clone(),
                id_number: String::new(),
                phone: String::new(),
                ethnicity: r.ethnicity.clone(),
                residence_type: r.residence_type.as_str().into(),
                relation: r.relation.as_str().into(),
                political_status: r.political_status.as_str().into(),
            };
            let editing = Some((
                r.id,
                r.version,
                r.id_number_masked.clone(),
                r.phone_masked.clone().unwrap_or_default(),
            ));
            render(&resident_form_page(
                lang,
                &s,
                r.household_id,
                editing,
                values,
                &r.tags,
                Vec::new(),
            ))
        }
        Err(e) => fail(lang, &s, &e),
    }
}

async fn save_resident(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    let f = Fields::parse(&body);
    if let Err(e) = check_form_csrf(&s, &f.get("_csrf")) {
        return fail(lang, &s, &e);
    }
    let current = match async {
        let id = parse_id(&raw, Resource::Resident)?;
        state.app.resident(&s.actor, id).await
    }
    .await
    {
        Ok(v) => v,
        Err(e) => return fail(lang, &s, &e),
    };
    let r = &current.resident;
    let (form, values) = resident_form_from(&f, &r.tags);
    let version = f.get("version").parse().unwrap_or(r.version);
    match state
        .app
        .update_resident(&s.actor, r.id, version, &form)
        .await
    {
        Ok(()) => Redirect::to(&format!("/register/residents/{}?saved=1", r.id)).into_response(),
        Err(
            e @ (AppError::InvalidFields(_) | AppError::Invalid { .. } | AppError::Conflict(_)),
        ) => {
            let editing = Some((
                r.id,
                r.version,
                r.id_number_masked.clone(),
                r.phone_masked.clone().unwrap_or_default(),
            ));
            (
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                render(&resident_form_page(
                    lang,
                    &s,
                    r.household_id,
                    editing,
                    values,
                    &form.tags,
                    field_list(&e, lang),
                )),
            )
                .into_response()
        }
        Err(e) => fail(lang, &s, &e),
    }
}

// ---- Businesses

struct BusinessRowView {
    id: Id,
    grid_id: Id,
    name: String,
    credit_code: String,
    legal_rep: String,
    phone: Option<String>,
    address: String,
    opening_date: String,
    status: &'static str,
    app: String,
    app_note: String,
}

fn business_view(b: &wangge_core::register::Business, lang: Lang) -> BusinessRowView {
    BusinessRowView {
        id: b.id,
        grid_id: b.grid_id,
        name: b.name.clone(),
        credit_code: b.credit_code.clone(),
        legal_rep: b.legal_rep.clone(),
        phone: b.phone_masked.clone(),
        address: b.address.clone(),
        opening_date: b.opening_date.map(|d| d.to_string()).unwrap_or_default(),
        status: b.status.label(lang),
        app: match b.app_reason {
            Some(r) => format!("{}：{}", b.app_status.label(lang), r.label(lang)),
            None => b.app_status.label(lang).to_owned(),
        },
        app_note: b.app_note.clone(),
    }
}

#[derive(Template)]
#[template(path = "reg_businesses.html")]
struct RegBusinessesPage {
    t: &'static Texts,
    nav: Nav,
    grid_id: Id,
    list: Vec<BusinessRowView>,
}

async fn reg_businesses(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
) -> Response {
    let result = async {
        let gid = parse_id(&raw, Resource::Grid)?;
        // A grid out of scope is not found, not merely empty.
        state.app.buildings(&s.actor, gid).await?;
        let list = state
            .app
            .businesses(&s.actor, Some(gid), Page::new(Some(200), None))
            .await?;
        Ok::<_, AppError>(RegBusinessesPage {
            t: texts(lang),
            nav: Nav::of(Some(&s)),
            grid_id: gid,
            list: list.iter().map(|b| business_view(b, lang)).collect(),
        })
    }
    .await;
    page_or_error(lang, &s, result)
}

#[derive(Template)]
#[template(path = "reg_business.html")]
struct RegBusinessPage {
    t: &'static Texts,
    nav: Nav,
    b: BusinessRowView,
    revealed: Option<String>,
    error: Option<String>,
    message: Option<String>,
}

async fn business_page(
    state: &AppState,
    lang: Lang,
    s: &Session,
    raw: &str,
    revealed: Option<String>,
    error: Option<String>,
    message: Option<String>,
) -> Response {
    let result = async {
        let id = parse_id(raw, Resource::Business)?;
        let b = state.app.business(&s.actor, id).await?;
        Ok::<_, AppError>(RegBusinessPage {
            t: texts(lang),
            nav: Nav::of(Some(s)),
            b: business_view(&b, lang),
            revealed,
            error,
            message,
        })
    }
    .await;
    page_or_error(lang, s, result)
}

async fn reg_business(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    q: Result<Query<SavedQuery>, QueryRejection>,
) -> Response {
    let saved = q
        .ok()
        .and_then(|Query(q)| q.saved)
        .map(|_| texts(lang).saved.to_owned());
    business_page(&state, lang, &s, &raw, None, None, saved).await
}

async fn reveal_business(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    let f = Fields::parse(&body);
    if let Err(e) = check_form_csrf(&s, &f.get("_csrf")) {
        return fail(lang, &s, &e);
    }
    let Ok(id) = parse_id(&raw, Resource::Business) else {
        return fail(lang, &s, &AppError::NotFound(Resource::Business));
    };
    match state
        .app
        .reveal_business_phone(&s.actor, id, &f.get("reason"))
        .await
    {
        Ok(v) => {
            let shown = v.unwrap_or_else(|| texts(lang).none.to_owned());
            business_page(&state, lang, &s, &raw, Some(shown), None, None).await
        }
        Err(e @ AppError::Invalid { .. }) => {
            business_page(&state, lang, &s, &raw, None, Some(e.localized(lang)), None).await
        }
        Err(e) => fail(lang, &s, &e),
    }
}

#[derive(Default)]
struct BusinessFormValues {
    name: String,
    credit_code: String,
    legal_rep: String,
    phone: String,
    address: String,
    opening_date: String,
    status: String,
    app_status: String,
    app_reason: String,
    app_note: String,
}

#[derive(Template)]
#[template(path = "reg_business_form.html")]
struct BusinessFormPage {
    t: &'static Texts,
    nav: Nav,
    id: Id,
    version: i64,
    masked_phone: String,
    f: BusinessFormValues,
    errors: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    app_statuses: Vec<(String, String)>,
    app_reasons: Vec<(String, String)>,
}

impl BusinessFormPage {
    fn err(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }
}

fn business_form_page(
    lang: Lang,
    s: &Session,
    id: Id,
    version: i64,
    masked_phone: String,
    f: BusinessFormValues,
    errors: Vec<(String, String)>,
) -> BusinessFormPage {
    BusinessFormPage {
        t: texts(lang),
        nav: Nav::of(Some(s)),
        id,
        version,
        masked_phone,
        f,
        errors,
        statuses: options(
            BusinessStatus::ALL,
            BusinessStatus::as_str,
            BusinessStatus::label,
            lang,
        ),
        app_statuses: options(AppStatus::ALL, AppStatus::as_str, AppStatus::label, lang),
        app_reasons: options(AppReason::ALL, AppReason::as_str, AppReason::label, lang),
    }
}

async fn edit_business(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
) -> Response {
    let result = async {
        let id = parse_id(&raw, Resource::Business)?;
        state.app.business(&s.actor, id).await
    }
    .await;
    match result {
        Ok(b) => {
            let f = BusinessFormValues {
                name: b.name.clone(),
                credit_code: b.credit_code.clone(),
                legal_rep: b.legal_rep.clone(),
                phone: String::new(),
                address: b.address.clone(),
                opening_date: b.opening_date.map(|d| d.to_string()).unwrap_or_default(),
                status: b.status.as_str().into(),
                app_status: b.app_status.as_str().into(),
                app_reason: b
                    .app_reason
                    .map(|r| r.as_str().to_owned())
                    .unwrap_or_default(),
                app_note: b.app_note.clone(),
            };
            render(&business_form_page(
                lang,
                &s,
                b.id,
                b.version,
                b.phone_masked.clone().unwrap_or_default(),
                f,
                Vec::new(),
            ))
        }
        Err(e) => fail(lang, &s, &e),
    }
}

async fn save_business(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    body: Bytes,
) -> Response {
    let f = Fields::parse(&body);
    if let Err(e) = check_form_csrf(&s, &f.get("_csrf")) {
        return fail(lang, &s, &e);
    }
    let current = match async {
        let id = parse_id(&raw, Resource::Business)?;
        state.app.business(&s.actor, id).await
    }
    .await
    {
        Ok(b) => b,
        Err(e) => return fail(lang, &s, &e),
    };
    let values = BusinessFormValues {
        name: f.get("name"),
        credit_code: f.get("credit_code"),
        legal_rep: f.get("legal_rep"),
        phone: f.get("phone"),
        address: f.get("address"),
        opening_date: f.get("opening_date"),
        status: f.get("status"),
        app_status: f.get("app_status"),
        app_reason: f.get("app_reason"),
        app_note: f.get("app_note"),
    };
    let form = BusinessForm {
        name: values.name.clone(),
        credit_code: values.credit_code.clone(),
        legal_rep: values.legal_rep.clone(),
        phone: f.opt("phone"),
        address: values.address.clone(),
        opening_date: f.opt("opening_date"),
        status: values.status.clone(),
        app_status: values.app_status.clone(),
        app_reason: f.opt("app_reason"),
        app_note: values.app_note.clone(),
    };
    let version = f.get("version").parse().unwrap_or(current.version);
    match state
        .app
        .update_business(&s.actor, current.id, version, &form)
        .await
    {
        Ok(()) => {
            Redirect::to(&format!("/register/businesses/{}?saved=1", current.id)).into_response()
        }
        Err(
            e @ (AppError::InvalidFields(_) | AppError::Invalid { .. } | AppError::Conflict(_)),
        ) => (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            render(&business_form_page(
                lang,
                &s,
                current.id,
                current.version,
                current.phone_masked.clone().unwrap_or_default(),
                values,
                field_list(&e, lang),
            )),
        )
            .into_response(),
        Err(e) => fail(lang, &s, &e),
    }
}
