//! Pages of cases: the list with traffic lights, the report form (with the
//! phone's position), a case with its timeline and the actions the viewer
//! may take, and the public progress page anyone with its link may read.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use jiff::Timestamp;
use wangge_app::cases::{ActForm, CaseForm, CaseView, TimelineEntry};
use wangge_app::register::Page;
use wangge_app::{AppError, Resource, Session};
use wangge_core::calendar::{CHINA, Light};
use wangge_core::category::CategoryKind;
use wangge_core::workflow::Action;
use wangge_core::{Lang, Localized};

use crate::form::{FormData, FormError, MAX_FORM_PHOTOS};
use crate::lang::PageLang;
use crate::nav::Nav;
use crate::pages::{error_page_with, render};
use crate::session::{AppState, PageSession, check_form_csrf};
use crate::texts::{Texts, texts};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list))
        .route(
            "/cases/new",
            get(new_form).post(create).layer(photo_body_limit()),
        )
        .route("/cases/{id}", get(show))
        .route(
            "/cases/{id}/act",
            axum::routing::post(act).layer(photo_body_limit()),
        )
        .route("/c/{code}", get(public))
        .route("/inbox", get(inbox))
        .route("/kpis", get(kpis))
        .route("/inbox/read", axum::routing::post(inbox_read))
}

/// Forms with photos may carry [`MAX_FORM_PHOTOS`] of the largest size
/// (each photo is checked on its own when stored).
fn photo_body_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(
        MAX_FORM_PHOTOS * wangge_media::PhotoLimits::default().max_bytes + 64 * 1024,
    )
}

/// An instant as a person in China reads it.
pub(crate) fn local(ts: Timestamp) -> String {
    CHINA.to_datetime(ts).strftime("%Y-%m-%d %H:%M").to_string()
}

fn light_class(l: Option<Light>) -> &'static str {
    match l {
        Some(Light::Green) => "green",
        Some(Light::Yellow) => "yellow",
        Some(Light::Red) => "red",
        None => "done",
    }
}

fn field(f: &[(String, String)], key: &str) -> String {
    f.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

fn fail(lang: Lang, s: &Session, e: &AppError) -> Response {
    error_page_with(lang, Nav::of(Some(s)), e)
}

struct CaseRow {
    id: i64,
    light: &'static str,
    category: String,
    state: String,
    place: String,
    reported_at: String,
    due: String,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct ListPage {
    t: &'static Texts,
    nav: Nav,
    cases: Vec<CaseRow>,
}

async fn list(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
) -> Response {
    match state
        .app
        .list_cases(&s.actor, Vec::new(), Page::new(Some(100), None))
        .await
    {
        Ok(cases) => render(&ListPage {
            t: texts(lang),
            nav: Nav::of(Some(&s)),
            cases: cases
                .into_iter()
                .map(|c| CaseRow {
                    id: c.id,
                    light: light_class(c.overall.light),
                    category: c.category_name,
                    state: c.state.label(lang).to_owned(),
                    place: c.grid_name.unwrap_or(c.address),
                    reported_at: local(c.reported_at),
                    due: if lang == Lang::Zh {
                        c.overall.due_zh
                    } else {
                        c.overall.due_en
                    },
                })
                .collect(),
        }),
        Err(e) => fail(lang, &s, &e),
    }
}

#[derive(Template)]
#[template(path = "case_new.html")]
struct NewPage {
    t: &'static Texts,
    nav: Nav,
    errors: Vec<(String, String)>,
    idempotency_key: String,
    groups: Vec<(String, Vec<(String, String)>)>,
    questions: Vec<(String, String, Vec<String>)>,
    category: String,
    description: String,
    lat: String,
    lon: String,
    address: String,
    urgent: bool,
    /// Likely duplicates: (public code, "state · distance").
    nearby: Vec<(String, String)>,
    /// Photos stored by an earlier try of this form, comma-separated.
    photo_ids: String,
    /// The reporter's patrol going on, when reported from it.
    patrol_id: String,
}

async fn new_page(
    state: &AppState,
    lang: Lang,
    s: &Session,
    values: &[(String, String)],
    errors: Vec<(String, String)>,
    nearby: Vec<(String, String)>,
) -> Response {
    let categories = match state.app.categories().await {
        Ok(c) => c,
        Err(e) => return fail(lang, s, &e),
    };
    let parents: Vec<&str> = categories
        .iter()
        .filter_map(|c| c.spec.parent.as_deref())
        .collect();
    let mut groups: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut questions: Vec<(String, String, Vec<String>)> = Vec::new();
    for (kind, label) in [
        (
            CategoryKind::Component,
            if lang == Lang::Zh {
                "部件"
            } else {
                "Components"
            },
        ),
        (
            CategoryKind::Event,
            if lang == Lang::Zh { "事件" } else { "Events" },
        ),
        (
            CategoryKind::Community,
            if lang == Lang::Zh {
                "社区事务"
            } else {
                "Community"
            },
        ),
    ] {
        let leaves: Vec<(String, String)> = categories
            .iter()
            .filter(|c| c.active && c.spec.kind == kind && !parents.contains(&c.spec.code.as_str()))
            .map(|c| (c.spec.code.clone(), c.spec.name.clone()))
            .collect();
        groups.push((label.to_owned(), leaves));
    }
    for c in &categories {
        for q in &c.spec.questions {
            if !questions.iter().any(|(code, _, _)| *code == q.code) {
                questions.push((q.code.clone(), q.label.clone(), q.values.clone()));
            }
        }
    }
    let key = wangge_app::auth::new_token().unwrap_or_default();
    let get = |k: &str| field(values, k);
    let page = NewPage {
        t: texts(lang),
        nav: Nav::of(Some(s)),
        idempotency_key: Some(get("idempotency_key"))
            .filter(|k| !k.is_empty())
            .unwrap_or(key),
        category: Some(get("category"))
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| "0103".into()),
        description: get("description"),
        lat: get("lat"),
        lon: get("lon"),
        address: get("address"),
        urgent: get("urgency") == "urgent",
        photo_ids: get("photo_ids"),
        patrol_id: get("patrol_id"),
        nearby,
        errors,
        groups,
        questions,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (status, render(&page)).into_response()
}

#[derive(Debug, Default, serde::Deserialize)]
struct NewQuery {
    /// Reported on this patrol of the reporter's.
    patrol_id: Option<i64>,
}

async fn new_form(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    axum::extract::Query(q): axum::extract::Query<NewQuery>,
) -> Response {
    let values: Vec<(String, String)> = q
        .patrol_id
        .map(|p| vec![("patrol_id".to_owned(), p.to_string())])
        .unwrap_or_default();
    new_page(&state, lang, &s, &values, Vec::new(), Vec::new()).await
}

/// Stores the photos a page form carries; with the ids of those stored
/// by an earlier try of the same form (`photo_ids`), the ids to attach.
async fn form_photos(state: &AppState, s: &Session, form: &FormData) -> Result<Vec<i64>, AppError> {
    let mut ids: Vec<i64> = form
        .get("photo_ids")
        .split(',')
        .filter_map(|id| id.trim().parse().ok())
        .collect();
    for bytes in &form.files {
        ids.push(state.app.upload_photo(&s.actor, bytes.to_vec()).await?.id);
    }
    Ok(ids)
}

fn read_form(state: &AppState, form: Result<FormData, FormError>) -> Result<FormData, AppError> {
    form.map_err(|e| e.into_app_error(state.app.photo_limits().max_bytes))
}

async fn create(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    posted: Result<FormData, FormError>,
) -> Response {
    let posted = match read_form(&state, posted) {
        Ok(p) => p,
        Err(e) => return fail(lang, &s, &e),
    };
    let f = posted.fields.clone();
    if let Err(e) = check_form_csrf(&s, &field(&f, "_csrf")) {
        return fail(lang, &s, &e);
    }
    let photos = match form_photos(&state, &s, &posted).await {
        Ok(ids) => ids,
        Err(e) => {
            let errors = vec![("photos".to_owned(), e.localized(lang))];
            return new_page(&state, lang, &s, &f, errors, Vec::new()).await;
        }
    };
    let mut f = f;
    f.retain(|(k, _)| k != "photo_ids");
    f.push((
        "photo_ids".into(),
        photos
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(","),
    ));
    let number = |k: &str| field(&f, k).parse::<f64>().ok();
    let category = field(&f, "category");
    let questions: Vec<String> = match state.app.categories().await {
        Ok(list) => list
            .into_iter()
            .find(|c| c.spec.code == category)
            .map(|c| c.spec.questions.into_iter().map(|q| q.code).collect())
            .unwrap_or_default(),
        Err(e) => return fail(lang, &s, &e),
    };
    let form = CaseForm {
        category,
        description: field(&f, "description"),
        lat: number("lat"),
        lon: number("lon"),
        address: field(&f, "address"),
        urgency: Some(field(&f, "urgency"))
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "normal".into()),
        source: None,
        answers: questions
            .into_iter()
            .filter_map(|q| {
                let v = field(&f, &format!("answer.{q}"));
                (!v.is_empty()).then(|| (q, vec![v]))
            })
            .collect(),
        caller_name: None,
        photos,
        patrol_id: field(&f, "patrol_id").parse().ok(),
    };
    let key = field(&f, "idempotency_key");
    // A likely duplicate is offered first; "file anyway" goes ahead.
    let offer = field(&f, "confirm_duplicate").is_empty();
    match state
        .app
        .report_case_checked(
            &s.actor,
            &form,
            Some(key.as_str()).filter(|k| !k.is_empty()),
            offer,
        )
        .await
    {
        Ok((case, _)) => Redirect::to(&format!("/cases/{}", case.id)).into_response(),
        Err(e @ (AppError::InvalidFields(_) | AppError::Invalid { .. })) => {
            let errors = e
                .field_errors()
                .into_iter()
                .map(|fe| (fe.field.to_owned(), fe.message(lang).to_owned()))
                .collect();
            new_page(&state, lang, &s, &f, errors, Vec::new()).await
        }
        Err(AppError::LikelyDuplicates(near)) => {
            let nearby = near
                .into_iter()
                .map(|n| {
                    let label = format!(
                        "{} · {} · {:.0} m",
                        n.category_name, n.state_label, n.distance_m
                    );
                    (n.public_code, label)
                })
                .collect();
            new_page(&state, lang, &s, &f, Vec::new(), nearby).await
        }
        Err(e) => fail(lang, &s, &e),
    }
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    t: &'static Texts,
    nav: Nav,
    c: CaseView,
    light: &'static str,
    due: String,
    deadline: String,
    reported_at: String,
    timeline: Vec<(String, TimelineEntry)>,
    actions: Vec<(String, String)>,
    departments: Vec<(String, String, bool)>,
    can_dispatch: bool,
    can_hang_up: bool,
    can_rate: bool,
    can_extend: bool,
    needs_photo: bool,
    can_merge: bool,
    error: Option<String>,
}

async fn case_page(
    state: &AppState,
    lang: Lang,
    s: &Session,
    id: i64,
    error: Option<String>,
) -> Response {
    let c = match state.app.case_view(&s.actor, id).await {
        Ok(c) => c,
        Err(e) => return fail(lang, s, &e),
    };
    let departments = match state.app.store().departments().await {
        Ok(d) => d,
        Err(e) => return fail(lang, s, &AppError::Store(e)),
    };
    let has = |a: Action| c.actions.contains(&a);
    let page = CasePage {
        t: texts(lang),
        nav: Nav::of(Some(s)),
        light: light_class(c.overall.light),
        due: if lang == Lang::Zh {
            c.overall.due_zh.clone()
        } else {
            c.overall.due_en.clone()
        },
        deadline: c.overall.deadline.map(local).unwrap_or_default(),
        reported_at: local(c.reported_at),
        timeline: c
            .timeline
            .iter()
            .map(|e| (local(e.at), e.clone()))
            .collect(),
        actions: c
            .actions
            .iter()
            .map(|a| (a.as_str().to_owned(), a.label(lang).to_owned()))
            .collect(),
        departments: departments
            .into_iter()
            .map(|d| {
                let selected = c.department.as_deref() == Some(d.name.as_str());
                (d.code, d.name, selected)
            })
            .collect(),
        can_dispatch: has(Action::Dispatch),
        can_hang_up: has(Action::HangUp),
        can_rate: has(Action::Rate),
        can_extend: has(Action::ApproveExtension) || has(Action::RequestExtension),
        can_merge: has(Action::Merge),
        needs_photo: c
            .actions
            .iter()
            .any(|a| wangge_core::workflow::needs_photo(*a)),
        error,
        c,
    };
    render(&page)
}

async fn show(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
) -> Response {
    match raw.parse() {
        Ok(id) => case_page(&state, lang, &s, id, None).await,
        Err(_) => fail(lang, &s, &AppError::NotFound(Resource::Case)),
    }
}

async fn act(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    posted: Result<FormData, FormError>,
) -> Response {
    let posted = match read_form(&state, posted) {
        Ok(p) => p,
        Err(e) => return fail(lang, &s, &e),
    };
    let f = &posted.fields;
    if let Err(e) = check_form_csrf(&s, &field(f, "_csrf")) {
        return fail(lang, &s, &e);
    }
    let Ok(id) = raw.parse::<i64>() else {
        return fail(lang, &s, &AppError::NotFound(Resource::Case));
    };
    let photos = match form_photos(&state, &s, &posted).await {
        Ok(ids) => ids,
        Err(e) => {
            let response = case_page(&state, lang, &s, id, Some(e.localized(lang))).await;
            return (StatusCode::UNPROCESSABLE_ENTITY, response).into_response();
        }
    };
    let Some(action) = Action::parse(&field(f, "action")) else {
        return case_page(
            &state,
            lang,
            &s,
            id,
            Some(AppError::invalid("action", "choose an action", "请选择操作").localized(lang)),
        )
        .await;
    };
    let form = ActForm {
        note: field(f, "note"),
        department: Some(field(f, "department")).filter(|d| !d.is_empty()),
        review_on: Some(field(f, "review_on")).filter(|d| !d.is_empty()),
        rating: field(f, "rating").parse().ok(),
        extension_hours: field(f, "extension_hours").parse().ok(),
        version: field(f, "version").parse().ok(),
        photos,
        merge_into: Some(field(f, "merge_into")).filter(|m| !m.is_empty()),
    };
    match state.app.act_on_case(&s.actor, id, action, &form).await {
        Ok(_) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(
            e @ (AppError::Refused(_)
            | AppError::Invalid { .. }
            | AppError::InvalidFields(_)
            | AppError::Conflict(_)),
        ) => {
            let response = case_page(&state, lang, &s, id, Some(e.localized(lang))).await;
            (StatusCode::CONFLICT, response).into_response()
        }
        Err(e) => fail(lang, &s, &e),
    }
}

#[derive(Template)]
#[template(path = "public_case.html")]
struct PublicPage {
    t: &'static Texts,
    nav: Nav,
    p: wangge_app::cases::PublicCaseView,
    reported_at: String,
    timeline: Vec<(String, TimelineEntry)>,
    /// The case id, when the signed-in viewer may rate it now.
    rate: Option<i64>,
}

/// The public progress page: anyone with the link; its reporter, signed
/// in, also finds the rating form here once it is closed.
async fn public(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    session: Option<PageSession>,
    Path(code): Path<String>,
) -> Response {
    let rate = match &session {
        Some(PageSession(s)) => state
            .app
            .rateable_by_code(&s.actor, &code)
            .await
            .ok()
            .flatten(),
        None => None,
    };
    match state.app.public_case(&code).await {
        Ok(p) => render(&PublicPage {
            t: texts(lang),
            nav: Nav::of(session.as_ref().map(|PageSession(s)| s)),
            rate,
            reported_at: local(p.reported_at),
            timeline: p
                .timeline
                .iter()
                .map(|e| (local(e.at), e.clone()))
                .collect(),
            p,
        }),
        Err(e) => error_page_with(lang, Nav::default(), &e),
    }
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    t: &'static Texts,
    nav: Nav,
    unread: i64,
    unread_only: bool,
    messages: Vec<(String, wangge_app::inbox::InboxItem)>,
}

#[derive(serde::Deserialize)]
struct InboxQuery {
    unread: Option<u8>,
}

/// The inbox: new dispatches, escalations, returns, checks due, approvals,
/// reminders and overdue notices, each linking to its case.
async fn inbox(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    axum::extract::Query(q): axum::extract::Query<InboxQuery>,
) -> Response {
    let unread_only = q.unread == Some(1);
    let messages = match state.app.inbox(&s.actor, unread_only, lang).await {
        Ok(m) => m,
        Err(e) => return fail(lang, &s, &e),
    };
    let unread = match state.app.unread_count(&s.actor).await {
        Ok(n) => n,
        Err(e) => return fail(lang, &s, &e),
    };
    render(&InboxPage {
        t: texts(lang),
        nav: Nav::of(Some(&s)),
        unread,
        unread_only,
        messages: messages.into_iter().map(|m| (local(m.at), m)).collect(),
    })
}

async fn inbox_read(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    posted: Result<FormData, FormError>,
) -> Response {
    let posted = match read_form(&state, posted) {
        Ok(p) => p,
        Err(e) => return fail(lang, &s, &e),
    };
    if let Err(e) = check_form_csrf(&s, &posted.get("_csrf")) {
        return fail(lang, &s, &e);
    }
    let id = posted.get("id").parse().ok();
    match state.app.mark_read(&s.actor, id).await {
        Ok(_) => Redirect::to("/inbox").into_response(),
        Err(e) => fail(lang, &s, &e),
    }
}

struct KpiLine {
    group: String,
    cases: u64,
    small: bool,
    /// Rates as "93% (28/30)", then mean hours.
    cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "kpis.html")]
struct KpiPage {
    t: &'static Texts,
    nav: Nav,
    by: &'static str,
    by_label: &'static str,
    groupings: Vec<(&'static str, &'static str)>,
    rows: Vec<KpiLine>,
}

fn rate(r: wangge_core::kpi::Rate) -> String {
    match r.value() {
        Some(v) => format!("{:.0}% ({}/{})", v * 100.0, r.hits, r.of),
        None => "—".into(),
    }
}

/// KPIs of the cases the viewer may see, by grid, community, department or
/// grid worker, each rate with its sample.
async fn kpis(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    use wangge_app::cases::KpiGroup;
    let t = texts(lang);
    let groupings = [
        ("grid", t.by_grid, KpiGroup::Grid),
        ("community", t.by_community, KpiGroup::Community),
        ("department", t.by_department, KpiGroup::Department),
        ("worker", t.by_worker, KpiGroup::Worker),
    ];
    let wanted = q.get("by").map(String::as_str).unwrap_or("grid");
    let (by, by_label, group) = groupings
        .iter()
        .find(|(k, _, _)| *k == wanted)
        .map(|(k, l, g)| (*k, *l, *g))
        .unwrap_or(groupings[0]);
    let rows = match state.app.kpis(&s.actor, group).await {
        Ok(r) => r,
        Err(e) => return fail(lang, &s, &e),
    };
    render(&KpiPage {
        t,
        nav: Nav::of(Some(&s)),
        by,
        by_label,
        groupings: groupings.iter().map(|(k, l, _)| (*k, *l)).collect(),
        rows: rows
            .into_iter()
            .map(|r| KpiLine {
                cells: vec![
                    rate(r.kpis.on_time_acceptance),
                    rate(r.kpis.on_time_dispatch),
                    rate(r.kpis.on_time_closure),
                    rate(r.kpis.rework),
                    rate(r.kpis.accurate_dispatch),
                    r.kpis
                        .mean_handling_hours
                        .map(|h| format!("{h:.1}"))
                        .unwrap_or_else(|| "—".into()),
                ],
                group: r.group,
                cases: r.kpis.cases,
                small: r.kpis.small_sample,
            })
            .collect(),
    })
}
