//! The import page: upload a sheet (with upload progress), choose dry run,
//! all-or-nothing or valid rows only, and read the report, with the
//! rejected rows to download; links to the template and the export.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::Response;
use axum::routing::get;
use base64::Engine;
use wangge_app::sheets::{ImportMode, ImportReport, SheetKind};
use wangge_app::{AppError, Session};
use wangge_core::Lang;

use crate::form::{FormData, FormError};
use crate::lang::PageLang;
use crate::nav::Nav;
use crate::pages::{error_page_with, render};
use crate::session::{AppState, PageSession, check_form_csrf};
use crate::texts::{Texts, texts};

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/register/import",
        get(form).post(upload).layer(DefaultBodyLimit::max(
            crate::api_sheets::MAX_IMPORT_BYTES + 64 * 1024,
        )),
    )
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    t: &'static Texts,
    nav: Nav,
    zh: bool,
    report: Option<ImportReport>,
    mode: String,
    /// The sheet chosen, and every sheet: (code, title).
    kind: &'static str,
    kinds: Vec<(&'static str, &'static str)>,
    rejected: Option<String>,
}

fn kinds() -> Vec<(&'static str, &'static str)> {
    SheetKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.title()))
        .collect()
}

fn fail(lang: Lang, s: &Session, e: &AppError) -> Response {
    error_page_with(lang, Nav::of(Some(s)), e)
}

async fn form(PageLang(lang): PageLang, PageSession(s): PageSession) -> Response {
    render(&ImportPage {
        t: texts(lang),
        nav: Nav::of(Some(&s)),
        zh: lang == Lang::Zh,
        report: None,
        mode: "dry_run".into(),
        kind: SheetKind::Residents.as_str(),
        kinds: kinds(),
        rejected: None,
    })
}

async fn upload(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    PageSession(s): PageSession,
    posted: Result<FormData, FormError>,
) -> Response {
    let run = async {
        let f = posted.map_err(|e| match e {
            FormError::TooLarge => {
                AppError::invalid("file", "the file is larger than 64 MB", "文件超过 64 MB")
            }
            other => other.into_app_error(crate::api_sheets::MAX_IMPORT_BYTES),
        })?;
        check_form_csrf(&s, &f.get("_csrf"))?;
        let mode_text = f.get("mode");
        let mode = ImportMode::parse(&mode_text).unwrap_or(ImportMode::DryRun);
        let kind = SheetKind::parse(&f.get("kind")).unwrap_or(SheetKind::Residents);
        let file = f
            .files
            .first()
            .ok_or_else(|| AppError::invalid("file", "choose a file", "请选择要导入的文件"))?;
        let report = state
            .app
            .import_sheet(&s.actor, kind, file, mode, None)
            .await?;
        let rejected = report
            .rejected
            .as_ref()
            .map(|b| base64::engine::general_purpose::STANDARD.encode(b));
        Ok(ImportPage {
            t: texts(lang),
            nav: Nav::of(Some(&s)),
            zh: lang == Lang::Zh,
            report: Some(report),
            mode: mode_text,
            kind: kind.as_str(),
            kinds: kinds(),
            rejected,
        })
    };
    match run.await {
        Ok(p) => render(&p),
        Err(e) => fail(lang, &s, &e),
    }
}
