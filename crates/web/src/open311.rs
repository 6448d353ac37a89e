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
use wangge_app::open311::{Attribute, NewRequest, Request, Service};

use crate::session::AppState;

/// Anonymous reads a client address may make: 120 a minute, in bursts of
/// up to 60. Posts carry an API key and are not limited here.
pub type Limiter = governor::RateLimiter<
    std::net::IpAddr,
    governor::state::keyed::HashMapStateStore<std::net::IpAddr>,
    governor::clock::DefaultClock,
>;

pub fn limiter() -> Limiter {
    const PER_MINUTE: std::num::NonZeroU32 = std::num::NonZeroU32::new(120).unwrap();
    const BURST: std::num::NonZeroU32 = std::num::NonZeroU32::new(60).unwrap();
    governor::RateLimiter::hashmap(governor::Quota::per_minute(PER_MINUTE).allow_burst(BURST))
}

/// Refuses anonymous reads over the limit with 429, in the spec's format.
pub async fn limit_reads(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if request.method() != axum::http::Method::GET {
        return next.run(request).await;
    }
    let address = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    if state.open311_limiter.check_key(&address).is_ok() {
        return next.run(request).await;
    }
    let format = if request.uri().path().ends_with(".json") {
        Format::Json
    } else {
        Format::Xml
    };
    let mut answer = error(
        format,
        StatusCode::TOO_MANY_REQUESTS,
        "too many requests from this address: wait a little",
    );
    answer.headers_mut().insert(
        header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("1"),
    );
    answer
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/open311/v2/{file}", get(resource).post(post_resource))
        .route("/open311/v2/services/{file}", get(definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
}

/// What a response holds, in either format.
#[derive(Debug, Clone)]
pub enum Node {
    Text(String),
    Int(i64),
    Float(f64),
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
        Node::Float(x) => Value::from(*x),
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
        Node::Float(x) => element
            .write_text_content(BytesText::new(&x.to_string()))
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
    axum::extract::RawQuery(query): axum::extract::RawQuery,
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
        "requests" => list_requests(&state, format, query.as_deref().unwrap_or("")).await,
        "servicerequestupdates" => updates(&state, format, query.as_deref().unwrap_or("")).await,
        _ => error(
            format,
            StatusCode::NOT_FOUND,
            &format!("no such resource: {name}"),
        ),
    }
}

/// `GET requests`: filters by id (overriding the rest), service code,
/// dates and status; the last 90 days and 1,000 requests by default;
/// `page` and `page_size`.
async fn list_requests(state: &AppState, format: Format, query: &str) -> Response {
    let fields = match Fields::parse(format, query.as_bytes()) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let get = |k: &str| fields.get(k);
    let list = |k: &str| -> Vec<String> {
        get(k)
            .map(|v| {
                v.split(',')
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    let dates = match date_range(format, &fields) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    // A bad number names its parameter.
    let number = |k: &'static str, default: i64| -> Result<i64, &'static str> {
        match get(k) {
            None => Ok(default),
            Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 1).ok_or(k),
        }
    };
    let (page, page_size) = match (number("page", 1), number("page_size", 1000)) {
        (Ok(p), Ok(s)) => (p, s),
        (Err(k), _) | (_, Err(k)) => {
            return error(
                format,
                StatusCode::BAD_REQUEST,
                &format!("{k} must be a whole number from 1"),
            );
        }
    };
    if let (Some(start), Some(end)) = (dates[0], dates[1]) {
        let days = wangge_app::open311::DEFAULT_WINDOW_DAYS;
        if end.duration_since(start) > jiff::SignedDuration::from_hours(24 * days) {
            return error(
                format,
                StatusCode::BAD_REQUEST,
                &format!("start_date and end_date may not span more than {days} days"),
            );
        }
    }
    let query = wangge_app::open311::RequestQuery {
        ids: list("service_request_id"),
        service_codes: list("service_code"),
        start: dates[0],
        end: dates[1],
        statuses: list("status"),
        page,
        page_size,
    };
    match state.app.open311_requests(query).await {
        Ok(found) => respond(
            StatusCode::OK,
            format,
            "service_requests",
            &Node::List("request", found.iter().map(request).collect()),
        ),
        Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields(_))) => {
            use wangge_core::{Lang, Localized};
            error(format, StatusCode::BAD_REQUEST, &e.localized(Lang::En))
        }
        Err(e) => app_error(format, &e),
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

fn time(t: jiff::Timestamp) -> Node {
    Node::Text(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

fn opt_time(t: Option<jiff::Timestamp>) -> Node {
    t.map(time).unwrap_or(Node::Text(String::new()))
}

fn number(x: Option<f64>) -> Node {
    x.map(Node::Float).unwrap_or(Node::Text(String::new()))
}

/// A request's public facts, in the spec's order.
fn request(r: &Request) -> Node {
    Node::Obj(vec![
        ("service_request_id", Node::Text(r.id.clone())),
        ("status", Node::Text(r.status.into())),
        ("status_notes", Node::Text(r.status_notes.clone())),
        ("service_name", Node::Text(r.service_name.clone())),
        ("service_code", Node::Text(r.service_code.clone())),
        // The reporter's words stay off public pages; so here.
        ("description", Node::Text(String::new())),
        (
            "agency_responsible",
            Node::Text(r.agency_responsible.clone()),
        ),
        ("service_notice", Node::Text(String::new())),
        ("requested_datetime", time(r.requested)),
        ("updated_datetime", time(r.updated)),
        ("expected_datetime", opt_time(r.expected)),
        ("address", Node::Text(r.address.clone())),
        ("address_id", Node::Text(String::new())),
        ("zipcode", Node::Text(String::new())),
        ("lat", number(r.lat)),
        ("long", number(r.lon)),
        ("media_url", Node::Text(String::new())),
    ])
}

async fn one_request(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((id, format)) = split(&file) else {
        return error(
            Format::Xml,
            StatusCode::NOT_FOUND,
            "unknown format: use .xml or .json",
        );
    };
    match state.app.open311_request(id).await {
        Ok(r) => respond(
            StatusCode::OK,
            format,
            "service_requests",
            &Node::List("request", vec![request(&r)]),
        ),
        Err(AppError::NotFound(_)) => error(
            format,
            StatusCode::NOT_FOUND,
            &format!("service_request_id {id} not found"),
        ),
        Err(e) => app_error(format, &e),
    }
}

/// `POST requests`: form-encoded, as the spec says.
async fn post_resource(
    State(state): State<AppState>,
    Path(file): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let Some((name, format)) = split(&file) else {
        return error(
            Format::Xml,
            StatusCode::NOT_FOUND,
            "unknown format: use .xml or .json",
        );
    };
    if name == "servicerequestupdates" {
        return post_update(&state, format, &body).await;
    }
    if name != "requests" {
        return error(
            format,
            StatusCode::NOT_FOUND,
            &format!("no such resource: {name}"),
        );
    }
    let fields = match Fields::parse(format, &body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let get = |k: &str| fields.get(k);
    let key = match fields.client_key(&state, format).await {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let Some(service_code) = get("service_code") else {
        return error(format, StatusCode::BAD_REQUEST, "service_code is required");
    };
    let coordinate = |k: &str| get(k).map(|v| v.parse::<f64>());
    let (lat, lon) = match (coordinate("lat"), coordinate("long")) {
        (Some(Ok(lat)), Some(Ok(lon))) => (Some(lat), Some(lon)),
        (None, None) => (None, None),
        _ => {
            return error(
                format,
                StatusCode::BAD_REQUEST,
                "lat and long must be given together, as numbers",
            );
        }
    };
    let mut address = get("address_string").unwrap_or_default();
    let (mut lat, mut lon) = (lat, lon);
    if let Some(id) = get("address_id") {
        // An address id is a building of the register.
        let building = match id.parse::<i64>() {
            Ok(id) => state.app.store().building(id).await.ok().flatten(),
            Err(_) => None,
        };
        let Some(b) = building else {
            return error(
                format,
                StatusCode::BAD_REQUEST,
                &format!("address_id {id} is not known"),
            );
        };
        lat = lat.or(Some(b.location.lat));
        lon = lon.or(Some(b.location.lon));
        if address.is_empty() {
            address = b.address;
        }
    }
    if lat.is_none() && address.is_empty() {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "a location is required: lat and long, address_string or address_id",
        );
    }
    let description = get("description").unwrap_or_default();
    if description.chars().count() > 4000 {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "description is limited to 4,000 characters",
        );
    }
    let mut attributes: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (k, v) in &fields.0 {
        if let Some(code) = k.strip_prefix("attribute[") {
            let code = code.trim_end_matches("[]").trim_end_matches(']');
            if !code.is_empty() && !v.trim().is_empty() {
                attributes
                    .entry(code.to_owned())
                    .or_default()
                    .push(v.trim().to_owned());
            }
        }
    }
    let name = [get("first_name"), get("last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let filed = state
        .app
        .open311_file(
            &key,
            NewRequest {
                service_code: service_code.clone(),
                lat,
                lon,
                address,
                description,
                attributes,
                name: Some(name).filter(|n| !n.is_empty()),
            },
        )
        .await;
    match filed {
        Ok(id) => respond(
            StatusCode::CREATED,
            format,
            "service_requests",
            &Node::List(
                "request",
                vec![Node::Obj(vec![
                    ("service_request_id", Node::Text(id)),
                    ("service_notice", Node::Text(String::new())),
                    ("account_id", Node::Text(String::new())),
                ])],
            ),
        ),
        Err(AppError::NotFound(_)) => error(
            format,
            StatusCode::NOT_FOUND,
            &format!("service_code {service_code} not found"),
        ),
        Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields(_))) => {
            let details: Vec<String> = e
                .field_errors()
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message(wangge_core::Lang::En)))
                .collect();
            error(format, StatusCode::BAD_REQUEST, &details.join("; "))
        }
        Err(e) => app_error(format, &e),
    }
}

/// `start_date` and `end_date` of a query, or the error answer.
fn date_range(
    format: Format,
    fields: &Fields,
) -> Result<[Option<jiff::Timestamp>; 2], Box<Response>> {
    let mut dates = [None, None];
    for (slot, key) in dates.iter_mut().zip(["start_date", "end_date"]) {
        if let Some(v) = fields.get(key) {
            *slot = Some(v.parse::<jiff::Timestamp>().map_err(|_| {
                Box::new(error(
                    format,
                    StatusCode::BAD_REQUEST,
                    &format!("{key} must be a date and time with a time zone (ISO 8601), not {v}"),
                ))
            })?);
        }
    }
    if let (Some(start), Some(end)) = (dates[0], dates[1])
        && start > end
    {
        return Err(Box::new(error(
            format,
            StatusCode::BAD_REQUEST,
            "start_date is after end_date",
        )));
    }
    Ok(dates)
}

/// mySociety's `GET servicerequestupdates`: what happened to public
/// requests, with the extended status.
async fn updates(state: &AppState, format: Format, query: &str) -> Response {
    let fields = match Fields::parse(format, query.as_bytes()) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let [start, end] = match date_range(format, &fields) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    match state.app.open311_updates(start, end).await {
        Ok(list) => respond(
            StatusCode::OK,
            format,
            "service_request_updates",
            &Node::List(
                "request_update",
                list.iter()
                    .map(|u| {
                        Node::Obj(vec![
                            ("update_id", Node::Text(u.id.clone())),
                            ("service_request_id", Node::Text(u.request_id.clone())),
                            ("status", Node::Text(u.status.into())),
                            ("updated_datetime", time(u.at)),
                            ("description", Node::Text(u.description.clone())),
                            ("media_url", Node::Text(String::new())),
                        ])
                    })
                    .collect(),
            ),
        ),
        Err(e) => app_error(format, &e),
    }
}

/// `GET tokens/{token}`: wangge files requests as they arrive and answers
/// their id at once, so a token is the request's id; an unknown one is 404.
async fn token(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((token, format)) = split(&file) else {
        return error(
            Format::Xml,
            StatusCode::NOT_FOUND,
            "unknown format: use .xml or .json",
        );
    };
    match state.app.open311_request(token).await {
        Ok(r) => respond(
            StatusCode::OK,
            format,
            "service_requests",
            &Node::List(
                "request",
                vec![Node::Obj(vec![
                    ("service_request_id", Node::Text(r.id.clone())),
                    ("token", Node::Text(r.id)),
                ])],
            ),
        ),
        Err(AppError::NotFound(_)) => error(
            format,
            StatusCode::NOT_FOUND,
            &format!("token {token} not found"),
        ),
        Err(e) => app_error(format, &e),
    }
}

/// mySociety's `POST servicerequestupdates`: a client's update (a
/// resident's comment) on a request, idempotent on `update_id`.
async fn post_update(state: &AppState, format: Format, body: &[u8]) -> Response {
    let fields = match Fields::parse(format, body) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let get = |k: &str| fields.get(k);
    let key = match fields.client_key(state, format).await {
        Ok(k) => k,
        Err(r) => return *r,
    };
    let (Some(request_id), Some(update_id)) = (get("service_request_id"), get("update_id")) else {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "service_request_id and update_id are required",
        );
    };
    if update_id.chars().count() > 100 {
        return error(
            format,
            StatusCode::BAD_REQUEST,
            "update_id is limited to 100 characters",
        );
    }
    let status = get("status");
    let description = get("description").unwrap_or_default();
    match state
        .app
        .open311_client_update(
            &key,
            &request_id,
            &update_id,
            status.as_deref(),
            &description,
        )
        .await
    {
        Ok(id) => respond(
            StatusCode::OK,
            format,
            "service_request_updates",
            &Node::List(
                "request_update",
                vec![Node::Obj(vec![("update_id", Node::Text(id))])],
            ),
        ),
        Err(AppError::NotFound(_)) => error(
            format,
            StatusCode::NOT_FOUND,
            &format!("service_request_id {request_id} not found"),
        ),
        Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields(_))) => {
            use wangge_core::{Lang, Localized};
            error(format, StatusCode::BAD_REQUEST, &e.localized(Lang::En))
        }
        Err(e) => app_error(format, &e),
    }
}

/// A request's query or form fields.
struct Fields(Vec<(String, String)>);

impl Fields {
    /// URL-encoded fields, or the spec's 400.
    fn parse(format: Format, bytes: &[u8]) -> Result<Self, Box<Response>> {
        serde_urlencoded::from_bytes(bytes)
            .map(Fields)
            .map_err(|e| {
                Box::new(error(
                    format,
                    StatusCode::BAD_REQUEST,
                    &format!("unreadable parameters: {e}"),
                ))
            })
    }

    /// A field's trimmed value, if given and not empty.
    fn get(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The live API key the fields carry, or the spec's 403.
    async fn client_key(
        &self,
        state: &AppState,
        format: Format,
    ) -> Result<wangge_app::apikeys::ApiKey, Box<Response>> {
        let found = match self.get("api_key") {
            Some(k) => state.app.api_key(&k).await,
            None => Ok(None),
        };
        match found {
            Ok(Some(k)) => Ok(k),
            Ok(None) => Err(Box::new(error(
                format,
                StatusCode::FORBIDDEN,
                "invalid or missing api_key",
            ))),
            Err(e) => Err(Box::new(app_error(format, &e))),
        }
    }
}
