//! Field-work pages for the phone: the day's hub (patrol with GPS track,
//! visits due, campaigns, notices), visit and referral forms, the campaign
//! checklist, the QR scan page, opinions, notices and figures.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use wangge_app::field::Period;
use wangge_app::field::campaigns::{
    Campaign, CampaignDetail, CampaignForm, Scan, Target, TargetForm, TeamForm,
};
use wangge_app::field::patrols::InspectionForm;
use wangge_app::field::patrols::PatrolFigures;
use wangge_app::field::visits::{CareItem, NeedForm, ReferralDetail, VisitFigures, VisitForm};
use wangge_app::field::voice::{Notice, NoticeDetail, NoticeForm, Opinion, OpinionForm, RelayForm};
use wangge_app::{AppError, Resource, Session};
use wangge_core::Lang;
use wangge_core::campaign::{
    TargetFilter, TargetReason, TargetStatus, Template as CampaignTemplate,
};
use wangge_core::patrol::{ItemAnswer, ItemResult, SafetyItem};
use wangge_core::policy::{FieldAction, Role, field_scope};
use wangge_core::register::TagKind;
use wangge_core::visit::{
    Frequency, MajorChange, NeedKind, Programme, ReferralStatus, VisitMode, VisitRule, VisitStatus,
};
use wangge_core::voice::{NoticeLevel, RelayMode, Topic};

use crate::case_pages::local;
use crate::field_texts::{FieldTexts, field_texts};
use crate::form::{FormData, FormError};
use crate::lang::PageLang;
use crate::nav::Nav;
use crate::pages::{error_page_with, render};
use crate::session::{AppState, PageSession, check_form_csrf};
use crate::texts::{Texts, texts};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/field", get(hub))
        .route("/field/patrol/start", post(start_patrol))
        .route("/field/patrol/{id}/end", post(end_patrol))
        .route("/field/visits/new", get(visit_form).post(record_visit))
        .route("/field/major-change", post(major_change))
        .route("/field/referrals", get(referrals))
        .route("/field/referrals/{id}", get(referral).post(move_referral))
        .route("/field/referrals/{id}/case", post(referral_case))
        .route("/field/campaigns", get(campaigns).post(create_campaign))
        .route("/field/campaigns/{id}", get(campaign))
        .route("/field/campaigns/{id}/team", post(assign))
        .route("/field/targets/{id}", post(update_target))
        .route("/q/{token}", get(scan).post(scan_check_in))
        .route("/field/opinions", get(opinions).post(add_opinion))
        .route("/field/opinions/{id}/answer", post(answer_opinion))
        .route("/field/opinions/{id}/case", post(opinion_case))
        .route("/field/notices", get(notices).post(publish_notice))
        .route("/field/notices/{id}", get(notice).post(relay_notice))
        .route("/field/figures", get(figures))
        .route(
            "/field/businesses/{id}/inspect",
            get(inspection_form).post(inspect),
        )
        .route(
            "/admin/visit-rules",
            get(visit_rules).post(save_visit_rules),
        )
        .route("/search", get(search))
}

fn fail(lang: Lang, s: &Session, e: &AppError) -> Response {
    error_page_with(lang, Nav::of(Some(s)), e)
}

/// Reads a posted form and checks its CSRF token.
fn posted(s: &Session, form: Result<FormData, FormError>) -> Result<FormData, AppError> {
    let form = form.map_err(|e| e.into_app_error(64 * 1024))?;
    check_form_csrf(s, &form.get("_csrf"))?;
    Ok(form)
}

fn id(raw: &str, what: Resource) -> Result<i64, AppError> {
    raw.parse().map_err(|_| AppError::NotFound(what))
}

fn opt_id(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

/// Runs a page's work: its answer, or the error page.
fn page<T: Template>(lang: Lang, s: &Session, r: Result<T, AppError>) -> Response {
    match r {
        Ok(p) => render(&p),
        Err(e) => fail(lang, s, &e),
    }
}

/// Runs a form's work: a redirect, or the error page.
fn done(lang: Lang, s: &Session, r: Result<String, AppError>) -> Response {
    match r {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => fail(lang, s, &e),
    }
}

fn plans(s: &Session) -> bool {
    !field_scope(&s.actor, FieldAction::Plan).is_empty()
}

fn works(s: &Session) -> bool {
    !field_scope(&s.actor, FieldAction::Work).is_empty()
}

// ---- The hub.

#[derive(Template)]
#[template(path = "field.html")]
struct Hub {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    lang: Lang,
    works: bool,
    patrol: Option<(wangge_app::field::patrols::PatrolDetail, String)>,
    /// The number the phone gives its next fix (after those stored).
    next_seq: i64,
    due: Vec<(CareItem, String)>,
    campaigns: Vec<Campaign>,
    notices: Vec<Notice>,
}

async fn hub(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
) -> Response {
    let run = async {
        let works = works(&s);
        let patrol = match state.app.current_patrol(&s.actor).await? {
            Some(p) => {
                let started = local(p.started_at);
                Some((state.app.patrol(&s.actor, p.id).await?, started))
            }
            None => None,
        };
        let due = if works {
            state
                .app
                .care_list(&s.actor, &[VisitStatus::Overdue, VisitStatus::Due], None)
                .await?
                .into_iter()
                .take(30)
                .map(|i| {
                    let at = local(i.schedule.due_at);
                    (i, at)
                })
                .collect()
        } else {
            Vec::new()
        };
        let next_seq = patrol
            .as_ref()
            .and_then(|(p, _)| p.track.iter().map(|x| x.seq + 1).max())
            .unwrap_or(0);
        let campaigns = match state.app.campaigns(&s.actor).await {
            Ok(list) => list,
            // Roles without field work (administrators, departments) see none.
            Err(AppError::Forbidden) => Vec::new(),
            Err(e) => return Err(e),
        };
        let notices = if works {
            state
                .app
                .notices(&s.actor)
                .await?
                .into_iter()
                .take(5)
                .collect()
        } else {
            Vec::new()
        };
        Ok(Hub {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            lang,
            works,
            patrol,
            next_seq,
            due,
            campaigns,
            notices,
        })
    };
    page(lang, &s, run.await)
}

async fn start_patrol(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        state
            .app
            .start_patrol(&s.actor, opt_id(&f.get("grid_id")), &f.get("note"))
            .await?;
        Ok("/field".to_owned())
    };
    done(lang, &s, run.await)
}

async fn end_patrol(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        posted(&s, form)?;
        state
            .app
            .end_patrol(&s.actor, id(&raw, Resource::Patrol)?)
            .await?;
        Ok("/field".to_owned())
    };
    done(lang, &s, run.await)
}

// ---- Visits and referrals.

#[derive(Debug, Deserialize)]
struct HouseholdQuery {
    household: Option<String>,
}

#[derive(Template)]
#[template(path = "field_visit.html")]
struct VisitPage {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    lang: Lang,
    item: CareItem,
    due_at: String,
    last_visit: String,
    residents: Vec<(i64, String)>,
    modes: &'static [VisitMode],
    kinds: &'static [NeedKind],
    programmes: &'static [Programme],
    changes: &'static [MajorChange],
}

async fn visit_form(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Query(q): Query<HouseholdQuery>,
) -> Response {
    let run = async {
        let household = id(q.household.as_deref().unwrap_or(""), Resource::Household)?;
        let item = state
            .app
            .care_list(&s.actor, &[], None)
            .await?
            .into_iter()
            .find(|i| i.household_id == household)
            .ok_or(AppError::NotFound(Resource::Household))?;
        let residents = state
            .app
            .residents(
                &s.actor,
                Some(household),
                None,
                wangge_app::register::Page::new(Some(50), None),
            )
            .await?
            .into_iter()
            .map(|r| (r.resident.id, format!("{}（{}岁）", r.resident.name, r.age)))
            .collect();
        Ok(VisitPage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            lang,
            due_at: local(item.schedule.due_at),
            last_visit: item.last_visit.map(local).unwrap_or_default(),
            item,
            residents,
            modes: VisitMode::ALL,
            kinds: NeedKind::ALL,
            programmes: Programme::ALL,
            changes: MajorChange::ALL,
        })
    };
    page(lang, &s, run.await)
}

async fn record_visit(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        let mut needs = Vec::new();
        for i in 0..3 {
            let kind = f.get(&format!("need{i}.kind"));
            if kind.is_empty() {
                continue;
            }
            needs.push(NeedForm {
                kind,
                detail: f.get(&format!("need{i}.detail")),
                programme: Some(f.get(&format!("need{i}.programme"))).filter(|p| !p.is_empty()),
            });
        }
        state
            .app
            .record_visit(
                &s.actor,
                VisitForm {
                    household_id: id(&f.get("household_id"), Resource::Household)?,
                    resident_id: opt_id(&f.get("resident_id")),
                    visited_at: None,
                    mode: f.get("mode"),
                    visitors: f.get("visitors"),
                    situation: f.get("situation"),
                    needs,
                },
            )
            .await?;
        Ok("/field".to_owned())
    };
    done(lang, &s, run.await)
}

async fn major_change(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        let resident = id(&f.get("resident_id"), Resource::Resident)?;
        state
            .app
            .record_major_change(&s.actor, resident, &f.get("kind"), &f.get("note"))
            .await?;
        Ok(format!(
            "/field/visits/new?household={}",
            f.get("household_id")
        ))
    };
    done(lang, &s, run.await)
}

#[derive(Template)]
#[template(path = "field_referrals.html")]
struct ReferralsPage {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    lang: Lang,
    rows: Vec<(wangge_app::field::visits::Referral, String)>,
}

async fn referrals(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
) -> Response {
    let run = async {
        Ok(ReferralsPage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            lang,
            rows: state
                .app
                .referrals(&s.actor, None, None)
                .await?
                .into_iter()
                .map(|r| {
                    let at = local(r.updated_at);
                    (r, at)
                })
                .collect(),
        })
    };
    page(lang, &s, run.await)
}

#[derive(Template)]
#[template(path = "field_referral.html")]
struct ReferralPage {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    lang: Lang,
    d: ReferralDetail,
    created: String,
    events: Vec<(String, wangge_app::field::visits::ReferralEvent)>,
    next: &'static [ReferralStatus],
}

async fn referral(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
) -> Response {
    let run = async {
        let d = state
            .app
            .referral(&s.actor, id(&raw, Resource::Referral)?)
            .await?;
        Ok(ReferralPage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            lang,
            created: local(d.referral.created_at),
            events: d.events.iter().map(|e| (local(e.at), e.clone())).collect(),
            next: d.referral.status.next(),
            d,
        })
    };
    page(lang, &s, run.await)
}

async fn move_referral(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        let rid = id(&raw, Resource::Referral)?;
        let version = f.get("version").parse().unwrap_or(0);
        state
            .app
            .move_referral(&s.actor, rid, version, &f.get("status"), &f.get("note"))
            .await?;
        Ok(format!("/field/referrals/{rid}"))
    };
    done(lang, &s, run.await)
}

async fn referral_case(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        posted(&s, form)?;
        let case = state
            .app
            .referral_to_case(&s.actor, id(&raw, Resource::Referral)?)
            .await?;
        Ok(format!("/cases/{case}"))
    };
    done(lang, &s, run.await)
}

// ---- Campaigns and QR cards.

#[derive(Template)]
#[template(path = "field_campaigns.html")]
struct CampaignsPage {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    lang: Lang,
    plans: bool,
    list: Vec<Campaign>,
    templates: &'static [CampaignTemplate],
    today: String,
}

async fn campaigns(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
) -> Response {
    let run = async {
        Ok(CampaignsPage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            lang,
            plans: plans(&s),
            list: state.app.campaigns(&s.actor).await?,
            templates: CampaignTemplate::ALL,
            today: state.app.today().to_string(),
        })
    };
    page(lang, &s, run.await)
}

async fn create_campaign(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        let date = |field: &'static str| {
            f.get(field).parse().map_err(|_| {
                AppError::invalid(
                    field,
                    "use a date like 2026-12-01",
                    "日期格式应为 2026-12-01",
                )
            })
        };
        let template = CampaignTemplate::parse(&f.get("template"))
            .ok_or_else(|| AppError::invalid("template", "choose a template", "请选择模板"))?;
        let mut filter = template.filter(state.app.today());
        if let Ok(age) = f.get("min_age").parse::<i16>() {
            filter.min_age = Some(age);
        }
        if f.get("without_phone") == "1" {
            filter.without_phone = true;
        }
        let detail = state
            .app
            .create_campaign(
                &s.actor,
                CampaignForm {
                    template: f.get("template"),
                    name: f.get("name"),
                    goal: f.get("goal"),
                    community_id: None,
                    starts_on: date("starts_on")?,
                    ends_on: date("ends_on")?,
                    filter: Some(TargetFilter { ..filter }),
                },
            )
            .await?;
        Ok(format!("/field/campaigns/{}", detail.campaign.id))
    };
    done(lang, &s, run.await)
}

struct TargetRow {
    target: Target,
    place: String,
    status_label: &'static str,
    reason_label: &'static str,
}

#[derive(Template)]
#[template(path = "field_campaign.html")]
struct CampaignPage {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    lang: Lang,
    d: CampaignDetail,
    /// Progress tables: by grid, building and unit.
    tables: Vec<(
        &'static str,
        Vec<wangge_app::field::campaigns::PlaceProgress>,
    )>,
    rows: Vec<TargetRow>,
    statuses: &'static [TargetStatus],
    reasons: Vec<TargetReason>,
    plans: bool,
    works: bool,
    residents: bool,
}

async fn campaign(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
) -> Response {
    let run = async {
        let cid = id(&raw, Resource::Campaign)?;
        let d = state.app.campaign(&s.actor, cid).await?;
        let rows = state
            .app
            .campaign_targets(&s.actor, cid, None, None)
            .await?
            .into_iter()
            .map(|t| TargetRow {
                place: t.placement.label(),
                status_label: t.status.label(lang),
                reason_label: t.reason.map(|r| r.label(lang)).unwrap_or(""),
                target: t,
            })
            .collect();
        Ok(CampaignPage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            lang,
            reasons: d.reasons.clone(),
            tables: vec![
                (field_texts(lang).by_grid, d.by_grid.clone()),
                (field_texts(lang).by_building, d.by_building.clone()),
                (field_texts(lang).by_unit, d.by_unit.clone()),
            ],
            residents: d.campaign.kind == wangge_core::campaign::TargetKind::Resident,
            d,
            rows,
            statuses: TargetStatus::ALL,
            plans: plans(&s),
            works: works(&s),
        })
    };
    page(lang, &s, run.await)
}

async fn update_target(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        let tid = id(&raw, Resource::Target)?;
        let d = state
            .app
            .update_target(
                &s.actor,
                tid,
                TargetForm {
                    status: f.get("status"),
                    reason: Some(f.get("reason")),
                    note: f.get("note"),
                    version: f.get("version").parse().unwrap_or(0),
                },
            )
            .await?;
        Ok(format!("/field/campaigns/{}#t{tid}", d.target.campaign_id))
    };
    done(lang, &s, run.await)
}

async fn assign(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        let cid = id(&raw, Resource::Campaign)?;
        state
            .app
            .assign_team(
                &s.actor,
                cid,
                TeamForm {
                    user_id: id(&f.get("user_id"), Resource::User)?,
                    building_id: id(&f.get("building_id"), Resource::Building)?,
                    unit_id: opt_id(&f.get("unit_id")),
                },
            )
            .await?;
        Ok(format!("/field/campaigns/{cid}"))
    };
    done(lang, &s, run.await)
}

#[derive(Template)]
#[template(path = "field_scan.html")]
struct ScanPage {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    lang: Lang,
    token: String,
    scan: Option<Scan>,
}

async fn scan(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    s: Option<PageSession>,
    Path(token): Path<String>,
) -> Response {
    let Some(PageSession(s)) = s else {
        // The card's holder (or anyone) learns nothing from the link.
        return render(&ScanPage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(None),
            lang,
            token,
            scan: None,
        });
    };
    let run = async {
        let scan = state.app.scan(&s.actor, &token).await?;
        Ok(ScanPage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            lang,
            token,
            scan: Some(scan),
        })
    };
    page(lang, &s, run.await)
}

async fn scan_check_in(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(token): Path<String>,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        state
            .app
            .scan_check_in(&s.actor, &token, id(&f.get("target_id"), Resource::Target)?)
            .await?;
        Ok(format!("/q/{token}"))
    };
    done(lang, &s, run.await)
}

// ---- Opinions and notices.

#[derive(Template)]
#[template(path = "field_opinions.html")]
struct OpinionsPage {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    lang: Lang,
    works: bool,
    resident: bool,
    rows: Vec<(Opinion, String)>,
    topics: &'static [Topic],
}

async fn opinions(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
) -> Response {
    let run = async {
        Ok(OpinionsPage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            lang,
            works: works(&s),
            resident: s.actor.role == Role::Resident,
            rows: state
                .app
                .opinions(&s.actor, None, None)
                .await?
                .into_iter()
                .map(|o| {
                    let at = local(o.created_at);
                    (o, at)
                })
                .collect(),
            topics: Topic::ALL,
        })
    };
    page(lang, &s, run.await)
}

async fn add_opinion(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        state
            .app
            .add_opinion(
                &s.actor,
                OpinionForm {
                    topic: f.get("topic"),
                    body: f.get("body"),
                    voiced_by: f.get("voiced_by"),
                    grid_id: opt_id(&f.get("grid_id")),
                    lat: f.get("lat").parse().ok(),
                    lon: f.get("lon").parse().ok(),
                },
            )
            .await?;
        Ok("/field/opinions".to_owned())
    };
    done(lang, &s, run.await)
}

async fn answer_opinion(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        state
            .app
            .answer_opinion(&s.actor, id(&raw, Resource::Opinion)?, &f.get("answer"))
            .await?;
        Ok("/field/opinions".to_owned())
    };
    done(lang, &s, run.await)
}

async fn opinion_case(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        let (_, case) = state
            .app
            .opinion_to_case(
                &s.actor,
                id(&raw, Resource::Opinion)?,
                &f.get("category"),
                &f.get("address"),
            )
            .await?;
        Ok(format!("/cases/{case}"))
    };
    done(lang, &s, run.await)
}

#[derive(Template)]
#[template(path = "field_notices.html")]
struct NoticesPage {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    lang: Lang,
    plans: bool,
    rows: Vec<(Notice, String)>,
    levels: &'static [NoticeLevel],
}

async fn notices(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
) -> Response {
    let run = async {
        Ok(NoticesPage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            lang,
            plans: plans(&s),
            rows: state
                .app
                .notices(&s.actor)
                .await?
                .into_iter()
                .map(|n| {
                    let at = local(n.published_at);
                    (n, at)
                })
                .collect(),
            levels: NoticeLevel::ALL,
        })
    };
    page(lang, &s, run.await)
}

async fn publish_notice(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        let d = state
            .app
            .publish_notice(
                &s.actor,
                NoticeForm {
                    level: f.get("level"),
                    unit_id: id(&f.get("unit_id"), Resource::Grid)?,
                    title: f.get("title"),
                    body: f.get("body"),
                },
            )
            .await?;
        Ok(format!("/field/notices/{}", d.notice.id))
    };
    done(lang, &s, run.await)
}

#[derive(Template)]
#[template(path = "field_notice.html")]
struct NoticePage {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    lang: Lang,
    d: NoticeDetail,
    published: String,
    relays: Vec<(String, wangge_app::field::voice::Relay)>,
    works: bool,
    modes: &'static [RelayMode],
}

async fn notice(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
) -> Response {
    let run = async {
        let d = state
            .app
            .notice(&s.actor, id(&raw, Resource::Notice)?)
            .await?;
        Ok(NoticePage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            lang,
            published: local(d.notice.published_at),
            relays: d.relays.iter().map(|r| (local(r.at), r.clone())).collect(),
            d,
            works: works(&s),
            modes: RelayMode::ALL,
        })
    };
    page(lang, &s, run.await)
}

async fn relay_notice(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        let nid = id(&raw, Resource::Notice)?;
        state
            .app
            .relay_notice(
                &s.actor,
                nid,
                RelayForm {
                    mode: f.get("mode"),
                    reach: f.get("reach").parse().unwrap_or(0),
                    note: f.get("note"),
                    grid_id: opt_id(&f.get("grid_id")),
                },
            )
            .await?;
        Ok(format!("/field/notices/{nid}"))
    };
    done(lang, &s, run.await)
}

// ---- Figures.

#[derive(Debug, Default, Deserialize)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Template)]
#[template(path = "field_figures.html")]
struct FiguresPage {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    period: Period,
    patrols: PatrolFigures,
    visits: VisitFigures,
    grid_names: std::collections::HashMap<i64, String>,
}

impl FiguresPage {
    fn grid(&self, id: &i64) -> &str {
        self.grid_names.get(id).map(String::as_str).unwrap_or("")
    }

    /// A rate with its sample: "93.3% (28/30)".
    fn pct(&self, n: &i64, d: &i64) -> String {
        if *d == 0 {
            "—".into()
        } else {
            format!("{:.1}% ({n}/{d})", *n as f64 * 100.0 / *d as f64)
        }
    }
}

async fn figures(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let run = async {
        let period = Period::of_days(q.from.as_deref(), q.to.as_deref(), state.app.today())?;
        Ok(FiguresPage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            patrols: state.app.patrol_figures(&s.actor, period).await?,
            visits: state.app.visit_figures(&s.actor, period).await?,
            grid_names: state
                .app
                .list_grids(None)
                .await?
                .into_iter()
                .map(|g| (g.grid.id, g.grid.name))
                .collect(),
            period,
        })
    };
    page(lang, &s, run.await)
}

// ---- Safety checks.

#[derive(Template)]
#[template(path = "field_inspect.html")]
struct InspectPage {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    lang: Lang,
    business: wangge_core::register::Business,
    items: &'static [SafetyItem],
    results: &'static [ItemResult],
    past: Vec<(String, wangge_app::field::patrols::Inspection)>,
}

async fn inspection_form(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
) -> Response {
    let run = async {
        let bid = id(&raw, Resource::Business)?;
        let business = state.app.business(&s.actor, bid).await?;
        let past = state
            .app
            .inspections(&s.actor, bid)
            .await?
            .into_iter()
            .map(|i| (local(i.at), i))
            .collect();
        Ok(InspectPage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            lang,
            business,
            items: SafetyItem::ALL,
            results: ItemResult::ALL,
            past,
        })
    };
    page(lang, &s, run.await)
}

async fn inspect(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Path(raw): Path<String>,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        let bid = id(&raw, Resource::Business)?;
        let mut answers = Vec::new();
        for item in SafetyItem::ALL {
            let result = ItemResult::parse(&f.get(item.as_str())).ok_or_else(|| {
                AppError::invalid(
                    "answers",
                    format!("answer {}", item.as_str()),
                    format!("请填写“{}”", item.label(Lang::Zh)),
                )
            })?;
            answers.push(ItemAnswer {
                item: *item,
                result,
                note: f.get(&format!("{}.note", item.as_str())),
            });
        }
        let patrol = state.app.current_patrol(&s.actor).await?.map(|p| p.id);
        state
            .app
            .inspect_business(
                &s.actor,
                bid,
                InspectionForm {
                    answers,
                    patrol_id: patrol,
                    report_failures: f.get("report_failures") == "1",
                },
            )
            .await?;
        Ok(format!("/field/businesses/{bid}/inspect"))
    };
    done(lang, &s, run.await)
}

// ---- Visit rules (administrators).

#[derive(Template)]
#[template(path = "admin_visit_rules.html")]
struct RulesPage {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    lang: Lang,
    rules: Vec<VisitRule>,
    blanks: Vec<usize>,
    tags: &'static [TagKind],
    frequencies: &'static [Frequency],
}

async fn visit_rules(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
) -> Response {
    if s.actor.role != Role::Admin {
        return fail(lang, &s, &AppError::Forbidden);
    }
    let run = async {
        let rules = state.app.visit_rules().await?;
        Ok(RulesPage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            lang,
            blanks: (rules.len()..rules.len() + 3).collect(),
            rules,
            tags: TagKind::ALL,
            frequencies: Frequency::ALL,
        })
    };
    page(lang, &s, run.await)
}

async fn save_visit_rules(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    form: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted(&s, form)?;
        let mut rules = Vec::new();
        for i in 0..200 {
            let name = f.get(&format!("r{i}.name"));
            if f.get(&format!("r{i}.frequency")).is_empty() {
                break;
            }
            if name.is_empty() {
                // A row without a name is dropped.
                continue;
            }
            rules.push(VisitRule {
                id: 0,
                name,
                tag: TagKind::parse(&f.get(&format!("r{i}.tag"))),
                min_age: f.get(&format!("r{i}.min_age")).parse().ok(),
                frequency: Frequency::parse(&f.get(&format!("r{i}.frequency"))).ok_or_else(
                    || AppError::invalid("frequency", "choose a frequency", "请选择频次"),
                )?,
            });
        }
        state.app.set_visit_rules(&s.actor, rules).await?;
        Ok("/admin/visit-rules".to_owned())
    };
    done(lang, &s, run.await)
}

// ---- Search.

#[derive(Debug, Default, Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    t: &'static Texts,
    f: &'static FieldTexts,
    nav: Nav,
    query: String,
    results: Option<wangge_app::search::SearchResults>,
}

impl SearchPage {
    fn kind_label(&self, kind: &str) -> &'static str {
        match kind {
            "resident" => self.f.kind_resident,
            "household" => self.f.kind_household,
            "business" => self.f.kind_business,
            "case" => self.f.kind_case,
            "opinion" => self.f.opinions,
            _ => self.f.visit,
        }
    }

    fn link(&self, hit: &wangge_app::search::Hit) -> String {
        match hit.kind.as_str() {
            "resident" => format!("/register/residents/{}", hit.record_id),
            "household" => format!("/register/households/{}", hit.record_id),
            "business" => format!("/register/businesses/{}", hit.record_id),
            "case" => format!("/cases/{}", hit.record_id),
            "opinion" => "/field/opinions".to_owned(),
            _ => "/field".to_owned(),
        }
    }
}

async fn search(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    Query(q): Query<SearchQuery>,
) -> Response {
    let query = q.q.unwrap_or_default();
    let run = async {
        let results = if query.trim().is_empty() {
            None
        } else {
            Some(state.app.search(&s.actor, &query).await?)
        };
        Ok(SearchPage {
            t: texts(lang),
            f: field_texts(lang),
            nav: Nav::of(Some(&s)),
            query: query.clone(),
            results,
        })
    };
    page(lang, &s, run.await)
}
