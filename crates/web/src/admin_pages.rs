//! Administrators' pages: case categories (limits, department, closure,
//! flags), the working calendar, and webhooks with their delivery log.
//! Every change goes through the same `App` calls as the API, so the same
//! checks and audit apply; anyone else is answered 403.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use wangge_app::settings::{
    CalendarDay, CategoryEdit, CategoryRecord, RoutingRuleForm, RoutingRuleView,
};
use wangge_app::webhooks::{DeliveryView, WebhookForm, WebhookView};
use wangge_app::{AppError, Session};
use wangge_core::Lang;
use wangge_core::calendar::Limit;
use wangge_core::category::StepLimits;
use wangge_core::policy::Role;

use crate::form::{FormData, FormError};
use crate::lang::PageLang;
use crate::nav::Nav;
use crate::pages::{error_page_with, render};
use crate::session::{AppState, PageSession, check_form_csrf};
use crate::texts::{Texts, texts};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/categories", get(categories))
        .route(
            "/admin/categories/{code}",
            get(category).post(save_category),
        )
        .route("/admin/routing", axum::routing::post(change_routing))
        .route("/admin/calendar", get(calendar).post(change_calendar))
        .route("/admin/webhooks", get(webhooks).post(change_webhooks))
        .route("/admin/webhooks/{id}", get(webhook_log))
        .route("/admin/apikeys", get(api_keys).post(change_api_keys))
}

fn fail(lang: Lang, s: &Session, e: &AppError) -> Response {
    error_page_with(lang, Nav::of(Some(s)), e)
}

fn admin_only(lang: Lang, s: &Session) -> Option<Response> {
    (s.actor.role != Role::Admin).then(|| fail(lang, s, &AppError::Forbidden))
}

/// A posted form with its CSRF token checked.
fn checked(s: &Session, posted: Result<FormData, FormError>) -> Result<FormData, AppError> {
    let posted = posted.map_err(|e| e.into_app_error(2 * 1024 * 1024))?;
    check_form_csrf(s, &posted.get("_csrf"))?;
    Ok(posted)
}

const UNITS: [&str; 3] = ["working_hours", "working_days", "calendar_hours"];

fn unit_and_amount(l: Option<Limit>) -> (String, String) {
    match l {
        Some(Limit::WorkingHours(h)) => ("working_hours".into(), h.to_string()),
        Some(Limit::WorkingDays(d)) => ("working_days".into(), d.to_string()),
        Some(Limit::CalendarHours(h)) => ("calendar_hours".into(), h.to_string()),
        None => (String::new(), String::new()),
    }
}

/// A limit from its form fields; `Ok(None)` when left empty.
fn limit_of(form: &FormData, prefix: &str) -> Result<Option<Limit>, AppError> {
    let amount = form.get(&format!("{prefix}_amount"));
    if amount.is_empty() {
        return Ok(None);
    }
    let n: i64 = amount.parse().map_err(|_| {
        AppError::invalid("limits", "a whole number of hours or days", "时限应为整数")
    })?;
    Ok(Some(match form.get(&format!("{prefix}_unit")).as_str() {
        "working_days" => Limit::WorkingDays(n),
        "calendar_hours" => Limit::CalendarHours(n),
        _ => Limit::WorkingHours(n),
    }))
}

#[derive(Template)]
#[template(path = "admin_categories.html")]
struct CategoriesPage {
    t: &'static Texts,
    nav: Nav,
    /// (code, name, limit, department, public, active)
    rows: Vec<(String, String, String, String, bool, bool)>,
    rules: Vec<RoutingRuleView>,
    /// (code, name) of departments, and of communities and streets.
    departments: Vec<(String, String)>,
    places: Vec<(String, String)>,
    error: Option<String>,
}

async fn categories(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
) -> Response {
    if let Some(r) = admin_only(lang, &s) {
        return r;
    }
    categories_page(&state, lang, &s, None).await
}

async fn categories_page(
    state: &AppState,
    lang: Lang,
    s: &Session,
    error: Option<String>,
) -> Response {
    let reference = match state.app.reference().await {
        Ok(r) => r,
        Err(e) => return fail(lang, s, &e),
    };
    let rules = match state.app.routing_rules(&s.actor).await {
        Ok(r) => r,
        Err(e) => return fail(lang, s, &e),
    };
    let t = texts(lang);
    let mut places: Vec<(String, String)> = Vec::new();
    for c in &reference.communities {
        let street = (c.street_code.to_string(), c.street_name.clone());
        if !places.contains(&street) {
            places.push(street);
        }
        places.push((c.community.code.to_string(), c.community.name.clone()));
    }
    let rows = reference
        .categories
        .iter()
        .map(|c| {
            let department = c
                .department_id
                .and_then(|d| reference.departments.iter().find(|x| x.id == d))
                .map(|d| d.name.clone())
                .unwrap_or_default();
            let (unit, amount) = unit_and_amount(Some(c.spec.overall));
            (
                c.spec.code.clone(),
                c.spec.name.clone(),
                format!("{amount} {}", unit_label(t, &unit)),
                department,
                c.spec.public,
                c.active,
            )
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = CategoriesPage {
        t,
        nav: Nav::of(Some(s)),
        rows,
        rules,
        departments: reference
            .departments
            .iter()
            .map(|d| (d.code.clone(), d.name.clone()))
            .collect(),
        places,
        error,
    };
    (status, render(&page)).into_response()
}

async fn change_routing(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    posted: Result<FormData, FormError>,
) -> Response {
    use wangge_core::Localized;
    let form = match checked(&s, posted) {
        Ok(f) => f,
        Err(e) => return fail(lang, &s, &e),
    };
    let done = match form.get("remove").parse::<i64>() {
        Ok(id) => state.app.remove_routing_rule(&s.actor, id).await,
        Err(_) => state
            .app
            .add_routing_rule(
                &s.actor,
                RoutingRuleForm {
                    category: form.get("category"),
                    place: Some(form.get("place")),
                    department: form.get("department"),
                },
            )
            .await
            .map(|_| ()),
    };
    match done {
        Ok(()) => Redirect::to("/admin/categories").into_response(),
        Err(e @ AppError::Invalid { .. }) => {
            categories_page(&state, lang, &s, Some(e.localized(lang))).await
        }
        Err(e) => fail(lang, &s, &e),
    }
}

fn unit_label(t: &Texts, unit: &str) -> &'static str {
    match unit {
        "working_days" => t.unit_working_days,
        "calendar_hours" => t.unit_calendar_hours,
        _ => t.unit_working_hours,
    }
}

#[derive(Template)]
#[template(path = "admin_category.html")]
struct CategoryPage {
    t: &'static Texts,
    nav: Nav,
    c: CategoryRecord,
    departments: Vec<(String, String, bool)>,
    units: Vec<(&'static str, &'static str)>,
    overall: (String, String),
    /// (field prefix, label, unit, amount)
    steps: Vec<(&'static str, &'static str, String, String)>,
    error: Option<String>,
}

async fn category_page(
    state: &AppState,
    lang: Lang,
    s: &Session,
    code: &str,
    error: Option<String>,
) -> Response {
    let reference = match state.app.reference().await {
        Ok(r) => r,
        Err(e) => return fail(lang, s, &e),
    };
    let Some(c) = reference
        .categories
        .iter()
        .find(|c| c.spec.code == code)
        .cloned()
    else {
        return fail(
            lang,
            s,
            &AppError::invalid("category", "no such category", "没有这个事件类别"),
        );
    };
    let t = texts(lang);
    let st = c.spec.steps;
    let page = CategoryPage {
        t,
        nav: Nav::of(Some(s)),
        departments: reference
            .departments
            .iter()
            .map(|d| {
                (
                    d.code.clone(),
                    d.name.clone(),
                    Some(d.id) == c.department_id,
                )
            })
            .collect(),
        units: UNITS.iter().map(|u| (*u, unit_label(t, u))).collect(),
        overall: unit_and_amount(Some(c.spec.overall)),
        steps: [
            ("acceptance", t.step_acceptance, st.acceptance),
            ("dispatch", t.step_dispatch, st.dispatch),
            ("handling", t.step_handling, st.handling),
            ("verification", t.step_verification, st.verification),
            ("closing", t.step_closing, st.closing),
        ]
        .into_iter()
        .map(|(k, label, l)| {
            let (unit, amount) = unit_and_amount(l);
            (k, label, unit, amount)
        })
        .collect(),
        error,
        c,
    };
    let status = if page.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, render(&page)).into_response()
}

async fn category(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(code): Path<String>,
) -> Response {
    if let Some(r) = admin_only(lang, &s) {
        return r;
    }
    category_page(&state, lang, &s, &code, None).await
}

fn category_edit(form: &FormData) -> Result<CategoryEdit, AppError> {
    let overall = limit_of(form, "overall")?
        .ok_or_else(|| AppError::invalid("limits", "give the overall limit", "请填写总时限"))?;
    Ok(CategoryEdit {
        name: Some(form.get("name")),
        department: Some(form.get("department")),
        overall: Some(overall),
        steps: Some(StepLimits {
            acceptance: limit_of(form, "acceptance")?,
            dispatch: limit_of(form, "dispatch")?,
            handling: limit_of(form, "handling")?,
            verification: limit_of(form, "verification")?,
            closing: limit_of(form, "closing")?,
        }),
        closure: Some(form.get("closure")),
        questions: None,
        public: Some(form.get("public") == "1"),
        active: Some(form.get("active") == "1"),
    })
}

async fn save_category(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(code): Path<String>,
    posted: Result<FormData, FormError>,
) -> Response {
    let form = match checked(&s, posted) {
        Ok(f) => f,
        Err(e) => return fail(lang, &s, &e),
    };
    let saved = match category_edit(&form) {
        Ok(edit) => state.app.edit_category(&s.actor, &code, edit).await,
        Err(e) => Err(e),
    };
    match saved {
        Ok(_) => Redirect::to("/admin/categories").into_response(),
        Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields(_))) => {
            use wangge_core::Localized;
            category_page(&state, lang, &s, &code, Some(e.localized(lang))).await
        }
        Err(e) => fail(lang, &s, &e),
    }
}

#[derive(Template)]
#[template(path = "admin_calendar.html")]
struct CalendarPage {
    t: &'static Texts,
    nav: Nav,
    days: Vec<CalendarDay>,
    error: Option<String>,
}

async fn calendar_page(
    state: &AppState,
    lang: Lang,
    s: &Session,
    error: Option<String>,
) -> Response {
    let days = match state.app.calendar_days().await {
        Ok(d) => d,
        Err(e) => return fail(lang, s, &e),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (
        status,
        render(&CalendarPage {
            t: texts(lang),
            nav: Nav::of(Some(s)),
            days,
            error,
        }),
    )
        .into_response()
}

async fn calendar(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
) -> Response {
    if let Some(r) = admin_only(lang, &s) {
        return r;
    }
    calendar_page(&state, lang, &s, None).await
}

async fn change_calendar(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    posted: Result<FormData, FormError>,
) -> Response {
    let form = match checked(&s, posted) {
        Ok(f) => f,
        Err(e) => return fail(lang, &s, &e),
    };
    let done = if form.get("remove").is_empty() {
        state
            .app
            .set_calendar_day(
                &s.actor,
                CalendarDay {
                    day: form.get("day"),
                    kind: form.get("kind"),
                    name: form.get("name"),
                },
            )
            .await
    } else {
        state
            .app
            .remove_calendar_day(&s.actor, &form.get("remove"))
            .await
    };
    match done {
        Ok(()) => Redirect::to("/admin/calendar").into_response(),
        Err(e @ AppError::Invalid { .. }) => {
            use wangge_core::Localized;
            calendar_page(&state, lang, &s, Some(e.localized(lang))).await
        }
        Err(e) => fail(lang, &s, &e),
    }
}

#[derive(Template)]
#[template(path = "admin_webhooks.html")]
struct WebhooksPage {
    t: &'static Texts,
    nav: Nav,
    hooks: Vec<WebhookView>,
    /// The secret of a webhook just added, shown once.
    secret: Option<String>,
    error: Option<String>,
}

async fn webhooks_page(
    state: &AppState,
    lang: Lang,
    s: &Session,
    secret: Option<String>,
    error: Option<String>,
) -> Response {
    let hooks = match state.app.webhooks(&s.actor).await {
        Ok(h) => h,
        Err(e) => return fail(lang, s, &e),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (
        status,
        render(&WebhooksPage {
            t: texts(lang),
            nav: Nav::of(Some(s)),
            hooks,
            secret,
            error,
        }),
    )
        .into_response()
}

async fn webhooks(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
) -> Response {
    webhooks_page(&state, lang, &s, None, None).await
}

async fn change_webhooks(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    posted: Result<FormData, FormError>,
) -> Response {
    use wangge_core::Localized;
    let form = match checked(&s, posted) {
        Ok(f) => f,
        Err(e) => return fail(lang, &s, &e),
    };
    if let Ok(id) = form.get("toggle").parse::<i64>() {
        return match state
            .app
            .set_webhook_active(&s.actor, id, form.get("active") == "1")
            .await
        {
            Ok(()) => Redirect::to("/admin/webhooks").into_response(),
            Err(e) => fail(lang, &s, &e),
        };
    }
    let events = form
        .get("events")
        .split([',', ' ', '，'])
        .filter(|e| !e.is_empty())
        .map(str::to_owned)
        .collect();
    match state
        .app
        .add_webhook(
            &s.actor,
            WebhookForm {
                name: form.get("name"),
                url: form.get("url"),
                events,
            },
        )
        .await
    {
        Ok((_, secret)) => webhooks_page(&state, lang, &s, Some(secret), None).await,
        Err(e @ AppError::Invalid { .. }) => {
            webhooks_page(&state, lang, &s, None, Some(e.localized(lang))).await
        }
        Err(e) => fail(lang, &s, &e),
    }
}

#[derive(Template)]
#[template(path = "admin_webhook_log.html")]
struct WebhookLogPage {
    t: &'static Texts,
    nav: Nav,
    hook: WebhookView,
    /// (time, attempt)
    attempts: Vec<(String, DeliveryView)>,
}

async fn webhook_log(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
) -> Response {
    let not_found = AppError::NotFound(wangge_app::Resource::Webhook);
    let Ok(id) = raw.parse::<i64>() else {
        return fail(lang, &s, &not_found);
    };
    let hooks = match state.app.webhooks(&s.actor).await {
        Ok(h) => h,
        Err(e) => return fail(lang, &s, &e),
    };
    let Some(hook) = hooks.into_iter().find(|h| h.id == id) else {
        return fail(lang, &s, &not_found);
    };
    let attempts = match state.app.webhook_log(&s.actor, id).await {
        Ok(a) => a,
        Err(e) => return fail(lang, &s, &e),
    };
    render(&WebhookLogPage {
        t: texts(lang),
        nav: Nav::of(Some(&s)),
        hook,
        attempts: attempts
            .into_iter()
            .map(|a| (crate::case_pages::local(a.at), a))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "admin_apikeys.html")]
struct ApiKeysPage {
    t: &'static Texts,
    nav: Nav,
    /// (name, prefix, created, revoked)
    keys: Vec<(String, String, String, Option<String>)>,
    /// A key just created, shown once: (name, key).
    created: Option<(String, String)>,
    error: Option<String>,
}

async fn api_keys_page(
    state: &AppState,
    lang: Lang,
    s: &Session,
    created: Option<(String, String)>,
    error: Option<String>,
) -> Response {
    let keys = match state.app.api_keys().await {
        Ok(k) => k,
        Err(e) => return fail(lang, s, &e),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let local = crate::case_pages::local;
    (
        status,
        render(&ApiKeysPage {
            t: texts(lang),
            nav: Nav::of(Some(s)),
            keys: keys
                .into_iter()
                .map(|k| {
                    (
                        k.name,
                        k.prefix,
                        local(k.created_at),
                        k.revoked_at.map(local),
                    )
                })
                .collect(),
            created,
            error,
        }),
    )
        .into_response()
}

/// Keys of Open311 clients: create (shown once), list, revoke.
async fn api_keys(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
) -> Response {
    if let Some(r) = admin_only(lang, &s) {
        return r;
    }
    api_keys_page(&state, lang, &s, None, None).await
}

async fn change_api_keys(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    posted: Result<FormData, FormError>,
) -> Response {
    use wangge_core::Localized;
    if let Some(r) = admin_only(lang, &s) {
        return r;
    }
    let form = match checked(&s, posted) {
        Ok(f) => f,
        Err(e) => return fail(lang, &s, &e),
    };
    let by = Some(s.actor.user_id);
    let revoke = form.get("revoke");
    let result = if revoke.is_empty() {
        state
            .app
            .add_api_key(by, &form.get("name"))
            .await
            .map(|(view, key)| Some((view.name, key)))
    } else {
        state.app.revoke_api_key(by, &revoke).await.map(|()| None)
    };
    match result {
        Ok(created) => api_keys_page(&state, lang, &s, created, None).await,
        Err(e @ AppError::Invalid { .. }) => {
            api_keys_page(&state, lang, &s, None, Some(e.localized(lang))).await
        }
        Err(e) => fail(lang, &s, &e),
    }
}
