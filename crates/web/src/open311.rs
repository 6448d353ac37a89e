//! Open311 GeoReport v2 under `/open311/v2/`: every resource in `.xml`
//! (with its declaration, the spec's element names) and `.json` (the
//! spec's bare arrays), UTF-8, errors in the spec's format.
//!
//! A response is built once as a [`Node`] tree and written in the format
//! asked for, so the two never drift apart.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use serde_json::Value;
use wangge_app::AppError;
use wangge_app::open311::{Attribute, Service};

use crate::session::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(resource))
        .route("/open311/v2/services/{file}", get(definition))
}

/// What a response holds, in either format.
#[derive(Debug, Clone)]
pub enum Node {
    Text(String),
    Int(i64),
    Bool(bool),
    /// Named fields, in order.
    Obj(Vec<(&'static str, Node)>),
    /// Items, each an XML element of the given name.
    List(&'static str, Vec<Node>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

/// `services.json` → (`services`, JSON); unknown suffixes are `None`.
fn split(file: &str) -> Option<(&str, Format)> {
    if let Some(name) = file.strip_suffix(".xml") {
        Some((name, Format::Xml))
    } else {
        file.strip_suffix(".json").map(|name| (name, Format::Json))
    }
}

fn json(node: &Node) -> Value {
    match node {
        Node::Text(s) => Value::String(s.clone()),
        Node::Int(i) => Value::from(*i),
        Node::Bool(b) => Value::Bool(*b),
        Node::Obj(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), json(v)))
                .collect(),
        ),
        Node::List(_, items) => Value::Array(items.iter().map(json).collect()),
    }
}

fn write_xml(w: &mut Writer<Vec<u8>>, name: &str, node: &Node) -> std::io::Result<()> {
    let element = w.create_element(name);
    match node {
        Node::Text(s) => element.write_text_content(BytesText::new(s)).map(|_| ()),
        Node::Int(i) => element
            .write_text_content(BytesText::new(&i.to_string()))
            .map(|_| ()),
        Node::Bool(b) => element
            .write_text_content(BytesText::new(if *b { "true" } else { "false" }))
            .map(|_| ()),
        Node::Obj(fields) => element
            .write_inner_content(|w| {
                for (k, v) in fields {
                    write_xml(w, k, v)?;
                }
                Ok(())
            })
            .map(|_| ()),
        Node::List(item, items) => element
            .write_inner_content(|w| {
                for v in items {
                    write_xml(w, item, v)?;
                }
                Ok(())
            })
            .map(|_| ()),
    }
}

/// The document `root` in `format`, with `status`.
pub fn respond(status: StatusCode, format: Format, root: &str, node: &Node) -> Response {
    match format {
        Format::Json => (
            status,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            json(node).to_string(),
        )
            .into_response(),
        Format::Xml => {
            let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
            let written = w
                .write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))
                .and_then(|()| write_xml(&mut w, root, node));
            match written {
                Ok(()) => (
                    status,
                    [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                    w.into_inner(),
                )
                    .into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "cannot write Open311 XML");
                    StatusCode::INTERNAL_SERVER_ERROR.into_response()
                }
            }
        }
    }
}

/// An error in the spec's format: `<errors><error><code/><description/>`.
pub fn error(format: Format, status: StatusCode, description: &str) -> Response {
    let node = Node::List(
        "error",
        vec![Node::Obj(vec![
            ("code", Node::Int(i64::from(status.as_u16()))),
            ("description", Node::Text(description.to_owned())),
        ])],
    );
    respond(status, format, "errors", &node)
}

fn app_error(format: Format, e: &AppError) -> Response {
    use wangge_core::{Lang, Localized};
    let status = crate::error::status_of(e);
    error(format, status, &e.localized(Lang::En))
}

fn service(s: &Service) -> Node {
    Node::Obj(vec![
        ("service_code", Node::Text(s.code.clone())),
        ("service_name", Node::Text(s.name.clone())),
        ("description", Node::Text(s.description.clone())),
        ("metadata", Node::Bool(s.metadata)),
        ("type", Node::Text("realtime".into())),
        ("keywords", Node::Text(s.keywords.join(","))),
        ("group", Node::Text(s.group.clone())),
    ])
}

fn attribute(a: &Attribute) -> Node {
    let values = Node::List(
        "value",
        a.values
            .iter()
            .map(|(key, name)| {
                Node::Obj(vec![
                    ("key", Node::Text(key.clone())),
                    ("name", Node::Text(name.clone())),
                ])
            })
            .collect(),
    );
    Node::Obj(vec![
        ("variable", Node::Bool(true)),
        ("code", Node::Text(a.code.clone())),
        ("datatype", Node::Text(a.datatype.into())),
        ("required", Node::Bool(a.required)),
        ("datatype_description", Node::Text(String::new())),
        ("order", Node::Int(a.order as i64)),
        ("description", Node::Text(a.description.clone())),
        ("values", values),
    ])
}

/// The discovery document: this endpoint, its formats and specification,
/// as of `changeset` (a UTC time).
fn discovery(base: &str, changeset: &str) -> Node {
    Node::Obj(vec![
        ("changeset", Node::Text(changeset.to_owned())),
        ("contact", Node::Text("wangge: see /api/docs".into())),
        (
            "key_service",
            Node::Text("API keys are issued by the administrator (wangge apikey add)".into()),
        ),
        (
            "endpoints",
            Node::List(
                "endpoint",
                vec![Node::Obj(vec![
                    (
                        "specification",
                        Node::Text("http://wiki.open311.org/GeoReport_v2".into()),
                    ),
                    ("url", Node::Text(format!("{base}/open311/v2"))),
                    ("changeset", Node::Text(changeset.to_owned())),
                    ("type", Node::Text("production".into())),
                    (
                        "formats",
                        Node::List(
                            "format",
                            vec![
                                Node::Text("text/xml".into()),
                                Node::Text("application/json".into()),
                            ],
                        ),
                    ),
                ])],
            ),
        ),
    ])
}

async fn resource(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(file): Path<String>,
) -> Response {
    let Some((name, format)) = split(&file) else {
        return error(
            Format::Xml,
            StatusCode::NOT_FOUND,
            "unknown format: use .xml or .json",
        );
    };
    match name {
        "discovery" => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            let now = state.app.now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            respond(
                StatusCode::OK,
                format,
                "discovery",
                &discovery(&format!("http://{host}"), &now),
            )
        }
        "services" => match state.app.open311_services().await {
            Ok(list) => respond(
                StatusCode::OK,
                format,
                "services",
                &Node::List("service", list.iter().map(service).collect()),
            ),
            Err(e) => app_error(format, &e),
        },
        _ => error(
            format,
            StatusCode::NOT_FOUND,
            &format!("no such resource: {name}"),
        ),
    }
}

async fn definition(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((code, format)) = split(&file) else {
        return error(
            Format::Xml,
            StatusCode::NOT_FOUND,
            "unknown format: use .xml or .json",
        );
    };
    match state.app.open311_definition(code).await {
        Ok(attributes) => respond(
            StatusCode::OK,
            format,
            "service_definition",
            &Node::Obj(vec![
                ("service_code", Node::Text(code.to_owned())),
                (
                    "attributes",
                    Node::List("attribute", attributes.iter().map(attribute).collect()),
                ),
            ]),
        ),
        Err(AppError::NotFound(_)) => error(
            format,
            StatusCode::NOT_FOUND,
            &format!("service_code {code} not found"),
        ),
        Err(e) => app_error(format, &e),
    }
}
