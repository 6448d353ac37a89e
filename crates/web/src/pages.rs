//! HTML pages: the communities, a community's grids, a grid with its
//! boundary and buildings, and the point lookup. Thin: parse, call the
//! app, render a template.

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use wangge_app::{App, AppError, GridDetail, Located, Resource};
use wangge_core::codes::CommunityCode;
use wangge_core::org::{BoundaryVersion, CommunitySummary, GridSummary};
use wangge_core::{Lang, Localized};

use crate::api::{LocateQuery, parse_locate};
use crate::error::status_of;
use crate::lang::PageLang;
use crate::map::{Dot, Shape, sketch};
use crate::nav::Nav;
use crate::session::PageSession;
use crate::texts::{Texts, building_use, texts};

pub fn routes() -> Router<crate::session::AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/communities") }))
        .route("/communities", get(communities))
        .route("/communities/{code}", get(community))
        .route("/grids/{id}", get(grid))
        .route("/locate", get(locate))
}

pub(crate) fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    t: &'static Texts,
    nav: Nav,
    title: &'static str,
    message: String,
}

/// An error as a page, with the status the API would give.
pub fn error_page(lang: Lang, error: &AppError) -> Response {
    error_page_with(lang, Nav::default(), error)
}

pub fn error_page_with(lang: Lang, nav: Nav, error: &AppError) -> Response {
    let t = texts(lang);
    let status = status_of(error);
    let title = if status == StatusCode::NOT_FOUND {
        t.not_found_title
    } else {
        t.error_title
    };
    let page = ErrorPage {
        t,
        nav,
        title,
        message: error.localized(lang),
    };
    (status, render(&page)).into_response()
}

pub async fn not_found(PageLang(lang): PageLang) -> Response {
    let t = texts(lang);
    let page = ErrorPage {
        t,
        nav: Nav::default(),
        title: t.not_found_title,
        message: String::new(),
    };
    (StatusCode::NOT_FOUND, render(&page)).into_response()
}

#[derive(Template)]
#[template(path = "communities.html")]
struct CommunitiesPage {
    t: &'static Texts,
    nav: Nav,
    communities: Vec<CommunitySummary>,
}

async fn communities(
    State(app): State<Arc<App>>,
    PageLang(lang): PageLang,
    session: Option<PageSession>,
) -> Response {
    let nav = Nav::of(session.as_ref().map(|s| &s.0));
    match app.list_communities().await {
        Ok(communities) => render(&CommunitiesPage {
            t: texts(lang),
            nav,
            communities,
        }),
        Err(e) => error_page(lang, &e),
    }
}

#[derive(Template)]
#[template(path = "community.html")]
struct CommunityPage {
    t: &'static Texts,
    nav: Nav,
    community: CommunitySummary,
    grids: Vec<GridSummary>,
    map: String,
}

async fn community(
    State(app): State<Arc<App>>,
    PageLang(lang): PageLang,
    session: Option<PageSession>,
    Path(code): Path<String>,
) -> Response {
    let nav = Nav::of(session.as_ref().map(|s| &s.0));
    let result = async {
        let code =
            CommunityCode::parse(&code).map_err(|_| AppError::NotFound(Resource::Community))?;
        let community = app.community(&code).await?;
        let grids = app.list_grids(Some(&code)).await?;
        let boundaries = app.community_boundaries(&code).await?;
        let shapes: Vec<Shape<'_>> = grids
            .iter()
            .filter_map(|g| {
                Some(Shape {
                    // "第一网格" rather than "和平社区第一网格": the map is of one community.
                    label: g
                        .grid
                        .name
                        .strip_prefix(g.community_name.as_str())
                        .unwrap_or(&g.grid.name),
                    href: Some(format!("/grids/{}", g.grid.id)),
                    geometry: boundaries.get(&g.grid.id)?,
                    highlight: false,
                })
            })
            .collect();
        let map = sketch(&shapes, &[]);
        Ok::<_, AppError>(CommunityPage {
            t: texts(lang),
            nav: nav.clone(),
            community,
            grids,
            map,
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => error_page(lang, &e),
    }
}

struct BuildingRow {
    name: String,
    use_label: &'static str,
    floors: i64,
    unit_count: i64,
    address: String,
}

#[derive(Template)]
#[template(path = "grid.html")]
struct GridPage {
    t: &'static Texts,
    nav: Nav,
    d: GridDetail,
    map: String,
    buildings: Vec<BuildingRow>,
    history: Vec<BoundaryVersion>,
}

async fn grid(
    State(app): State<Arc<App>>,
    PageLang(lang): PageLang,
    session: Option<PageSession>,
    Path(id): Path<String>,
) -> Response {
    let nav = Nav::of(session.as_ref().map(|s| &s.0));
    let Ok(id) = id.parse::<i64>() else {
        return error_page(lang, &AppError::NotFound(Resource::Grid));
    };
    let d = match app.grid_detail(id).await {
        Ok(d) => d,
        Err(e) => return error_page(lang, &e),
    };
    let map = match &d.boundary {
        Some(geometry) => {
            let shapes = [Shape {
                label: &d.summary.grid.name,
                href: None,
                geometry,
                highlight: true,
            }];
            let dots: Vec<Dot<'_>> = d
                .buildings
                .iter()
                .map(|b| Dot {
                    label: &b.name,
                    lon: b.location.lon,
                    lat: b.location.lat,
                })
                .collect();
            sketch(&shapes, &dots)
        }
        None => String::new(),
    };
    let buildings = d
        .buildings
        .iter()
        .map(|b| BuildingRow {
            name: b.name.clone(),
            use_label: building_use(lang, b.building_use),
            floors: b.floors,
            unit_count: b.unit_count,
            address: b.address.clone(),
        })
        .collect();
    let history = d.history.clone();
    render(&GridPage {
        t: texts(lang),
        nav,
        d,
        map,
        buildings,
        history,
    })
}

#[derive(Template)]
#[template(path = "locate.html")]
struct LocatePage {
    t: &'static Texts,
    nav: Nav,
    lat: String,
    lon: String,
    at: String,
    error: Option<String>,
    found: Option<GridSummary>,
    outside: bool,
}

async fn locate(
    State(app): State<Arc<App>>,
    PageLang(lang): PageLang,
    session: Option<PageSession>,
    query: Result<Query<LocateQuery>, QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let mut page = LocatePage {
        t: texts(lang),
        nav: Nav::of(session.as_ref().map(|s| &s.0)),
        lat: q.lat.clone().unwrap_or_default(),
        lon: q.lon.clone().unwrap_or_default(),
        at: q.at.clone().unwrap_or_default(),
        error: None,
        found: None,
        outside: false,
    };
    if q.lat.is_some() || q.lon.is_some() {
        match parse_locate(&q) {
            Err(e) => page.error = Some(e.localized(lang)),
            Ok((point, at)) => match app.locate(point, at).await {
                Ok(Located::Inside { grid }) => page.found = Some(*grid),
                Ok(Located::Outside) => page.outside = true,
                Err(e) => page.error = Some(e.localized(lang)),
            },
        }
    }
    render(&page)
}
