//! Open311 GeoReport v2: wangge's public categories as services, and their
//! extra questions as service definitions. Only public, active categories
//! that have no subcategories are services; their parent is the group.

use wangge_core::category::{CategoryKind, Datatype};

use crate::App;
use crate::error::{AppError, Resource};

/// A service as GeoReport v2 lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub code: String,
    pub name: String,
    pub description: String,
    /// The parent category's name, or the kind of category.
    pub group: String,
    pub keywords: Vec<String>,
    /// Whether it has a service definition (extra questions).
    pub metadata: bool,
}

/// One attribute of a service definition.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub code: String,
    pub description: String,
    pub datatype: &'static str,
    pub required: bool,
    pub order: usize,
    /// `(key, name)` of list values.
    pub values: Vec<(String, String)>,
}

fn datatype(d: Datatype) -> &'static str {
    match d {
        Datatype::String => "string",
        Datatype::Number => "number",
        Datatype::Datetime => "datetime",
        Datatype::Text => "text",
        Datatype::Singlevaluelist => "singlevaluelist",
        Datatype::Multivaluelist => "multivaluelist",
    }
}

fn kind_label(k: CategoryKind) -> &'static str {
    match k {
        CategoryKind::Component => "部件",
        CategoryKind::Event => "事件",
        CategoryKind::Community => "社区事务",
    }
}

impl App {
    /// Every service, in category code order.
    pub async fn open311_services(&self) -> Result<Vec<Service>, AppError> {
        let reference = self.reference().await?;
        let all = &reference.categories;
        let mut out: Vec<Service> = all
            .iter()
            .filter(|c| c.active && c.spec.public)
            .filter(|c| {
                !all.iter()
                    .any(|x| x.spec.parent.as_deref() == Some(c.spec.code.as_str()))
            })
            .map(|c| {
                let parent = c
                    .spec
                    .parent
                    .as_deref()
                    .and_then(|p| all.iter().find(|x| x.spec.code == p))
                    .map(|p| p.spec.name.clone());
                let kind = kind_label(c.spec.kind).to_owned();
                let group = parent.clone().unwrap_or_else(|| kind.clone());
                let mut keywords = vec![c.spec.name.clone(), kind.clone()];
                keywords.extend(parent);
                keywords.dedup();
                Service {
                    code: c.spec.code.clone(),
                    description: format!("{}：{}（{}）", kind, c.spec.name, group),
                    name: c.spec.name.clone(),
                    group,
                    keywords,
                    metadata: !c.spec.questions.is_empty(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(out)
    }

    /// A service's definition: its extra questions, in order.
    pub async fn open311_definition(&self, code: &str) -> Result<Vec<Attribute>, AppError> {
        let reference = self.reference().await?;
        let services = self.open311_services().await?;
        if !services.iter().any(|s| s.code == code) {
            return Err(AppError::NotFound(Resource::Service));
        }
        let category = reference
            .categories
            .iter()
            .find(|c| c.spec.code == code)
            .ok_or(AppError::NotFound(Resource::Service))?;
        Ok(category
            .spec
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| Attribute {
                code: q.code.clone(),
                description: q.label.clone(),
                datatype: datatype(q.datatype),
                required: q.required,
                order: i + 1,
                values: q.values.iter().map(|v| (v.clone(), v.clone())).collect(),
            })
            .collect())
    }
}

/// A service request as Open311 shows it: public facts only, never the
/// reporter.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The case's public code.
    pub id: String,
    /// `open` or `closed`.
    pub status: &'static str,
    /// The rich state, in words.
    pub status_notes: String,
    pub service_code: String,
    pub service_name: String,
    /// The department holding it.
    pub agency_responsible: String,
    pub requested: jiff::Timestamp,
    pub updated: jiff::Timestamp,
    /// The deadline of the whole case, while it runs.
    pub expected: Option<jiff::Timestamp>,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

/// What an Open311 client files (`POST requests`), already parsed.
#[derive(Debug, Clone, Default)]
pub struct NewRequest {
    pub service_code: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub address: String,
    pub description: String,
    /// `attribute[code]` values, several for multi-value lists.
    pub attributes: std::collections::BTreeMap<String, Vec<String>>,
    /// The person's name, kept as the caller's (never public).
    pub name: Option<String>,
}

impl App {
    /// Files a request for a client (by its key) as a case: routed,
    /// clocked, in the workflow. Answers its public code.
    pub async fn open311_file(
        &self,
        key: &wangge_store::ApiKey,
        request: NewRequest,
    ) -> Result<String, AppError> {
        let services = self.open311_services().await?;
        let Some(service) = services.iter().find(|s| s.code == request.service_code) else {
            return Err(AppError::NotFound(Resource::Service));
        };
        let actor = wangge_core::policy::Actor {
            user_id: key.user_id,
            role: wangge_core::policy::Role::Resident,
            grids: Vec::new(),
            communities: Vec::new(),
            streets: Vec::new(),
            departments: Vec::new(),
        };
        let description = if request.description.trim().is_empty() {
            service.name.clone()
        } else {
            request.description
        };
        let form = crate::cases::CaseForm {
            category: service.code.clone(),
            description,
            lat: request.lat,
            lon: request.lon,
            address: request.address,
            urgency: "normal".into(),
            source: Some("resident".into()),
            answers: request.attributes,
            caller_name: request.name,
            photos: Vec::new(),
            patrol_id: None,
        };
        let (view, _) = self.report_case(&actor, &form, None).await?;
        Ok(view.public_code)
    }

    /// One request by its public code; internal categories are not found.
    pub async fn open311_request(&self, code: &str) -> Result<Request, AppError> {
        let case = self
            .store
            .case_by_code(code)
            .await?
            .ok_or(AppError::NotFound(Resource::Case))?;
        let view = self.public_case(code).await?;
        let reference = self.reference().await?;
        let category = reference
            .categories
            .iter()
            .find(|c| c.id == case.category_id)
            .ok_or(AppError::NotFound(Resource::Case))?;
        let updated = view
            .timeline
            .last()
            .map(|e| e.at)
            .unwrap_or(case.reported_at);
        // Always an address: the one given, else the grid it lies in.
        let address = if case.address.is_empty() {
            match case.grid_id {
                Some(g) => self
                    .store
                    .grid(g)
                    .await?
                    .map(|g| g.grid.name)
                    .unwrap_or_default(),
                None => String::new(),
            }
        } else {
            case.address.clone()
        };
        Ok(Request {
            id: case.public_code.clone(),
            status: if view.closed || matches!(case.state.as_str(), "voided" | "merged") {
                "closed"
            } else {
                "open"
            },
            status_notes: format!("{}：{}", view.state_label_zh, view.next_step_zh),
            service_code: category.spec.code.clone(),
            service_name: category.spec.name.clone(),
            agency_responsible: view.department.clone().unwrap_or_default(),
            requested: case.reported_at,
            updated,
            expected: view.deadline,
            address,
            lat: case.lat,
            lon: case.lon,
        })
    }
}

/// The filters of `GET requests`.
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    /// When given, these requests only; the other filters are ignored.
    pub ids: Vec<String>,
    pub service_codes: Vec<String>,
    pub start: Option<jiff::Timestamp>,
    pub end: Option<jiff::Timestamp>,
    /// `open` and/or `closed`.
    pub statuses: Vec<String>,
    /// From 1.
    pub page: i64,
    /// At most [`MAX_REQUESTS`].
    pub page_size: i64,
}

/// The most requests one answer lists.
pub const MAX_REQUESTS: i64 = 1000;
/// The window listed when no dates are given.
pub const DEFAULT_WINDOW_DAYS: i64 = 90;

const OPEN_STATES: &[&str] = &[
    "reported",
    "accepted",
    "dispatched",
    "in_progress",
    "handled",
    "verified",
    "self_handled",
    "hung_up",
];
const CLOSED_STATES: &[&str] = &["closed", "rated", "voided", "merged"];

impl App {
    /// Requests by the spec's filters: ids override the rest; by default the
    /// last 90 days, at most 1,000, newest first.
    pub async fn open311_requests(&self, q: RequestQuery) -> Result<Vec<Request>, AppError> {
        if !q.ids.is_empty() {
            let mut out = Vec::new();
            for id in q.ids.iter().take(MAX_REQUESTS as usize) {
                match self.open311_request(id).await {
                    Ok(r) => out.push(r),
                    Err(AppError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(out);
        }
        let services = self.open311_services().await?;
        let reference = self.reference().await?;
        let wanted: Vec<&Service> = services
            .iter()
            .filter(|s| q.service_codes.is_empty() || q.service_codes.contains(&s.code))
            .collect();
        let category_ids: Vec<wangge_core::org::Id> = reference
            .categories
            .iter()
            .filter(|c| wanted.iter().any(|s| s.code == c.spec.code))
            .map(|c| c.id)
            .collect();
        let now = self.now();
        let to = q.end.unwrap_or(now);
        let from = q
            .start
            .unwrap_or(to - jiff::SignedDuration::from_hours(24 * DEFAULT_WINDOW_DAYS));
        let mut states: Vec<String> = Vec::new();
        for s in &q.statuses {
            let list = match s.as_str() {
                "open" => OPEN_STATES,
                "closed" => CLOSED_STATES,
                other => {
                    return Err(AppError::invalid(
                        "status",
                        format!("status is open or closed, not {other}"),
                        "状态应为 open 或 closed",
                    ));
                }
            };
            states.extend(list.iter().map(|s| (*s).to_owned()));
        }
        let size = q.page_size.clamp(1, MAX_REQUESTS);
        let cases = self
            .store
            .public_cases(wangge_store::PublicCaseQuery {
                category_ids,
                from,
                to,
                states,
                limit: size,
                offset: (q.page.max(1) - 1) * size,
            })
            .await?;
        let mut out = Vec::with_capacity(cases.len());
        for c in cases {
            out.push(self.open311_request(&c.public_code).await?);
        }
        Ok(out)
    }
}

/// One entry of the update feed (mySociety's `servicerequestupdates`).
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub id: String,
    pub request_id: String,
    /// The extended status: OPEN, INVESTIGATING, ACTION_SCHEDULED,
    /// IN_PROGRESS, FIXED, CLOSED, DUPLICATE.
    pub status: &'static str,
    pub at: jiff::Timestamp,
    pub description: String,
}

impl App {
    /// Public timeline entries of public cases in a window (by default the
    /// last 24 hours), oldest first, at most 1,000: a client polls with the
    /// time of the last update it saw as `start_date`.
    pub async fn open311_updates(
        &self,
        start: Option<jiff::Timestamp>,
        end: Option<jiff::Timestamp>,
    ) -> Result<Vec<Update>, AppError> {
        let to = end.unwrap_or_else(|| self.now());
        let from = start.unwrap_or(to - jiff::SignedDuration::from_hours(24));
        Ok(self
            .store
            .public_updates(from, to, MAX_REQUESTS)
            .await?
            .into_iter()
            .filter_map(|(id, code, at, state, note)| {
                let state = wangge_core::workflow::CaseState::parse(&state)?;
                Some(Update {
                    id: id.to_string(),
                    request_id: code,
                    status: wangge_core::workflow::open311_status(state).1,
                    at,
                    description: if note.is_empty() {
                        state.label(wangge_core::Lang::Zh).to_owned()
                    } else {
                        note
                    },
                })
            })
            .collect())
    }
}

impl App {
    /// A client's update on a request (mySociety's `POST
    /// servicerequestupdates`): a public timeline entry by the client,
    /// added once per `update_id`. Answers the update's id.
    pub async fn open311_client_update(
        &self,
        key: &wangge_store::ApiKey,
        request_id: &str,
        update_id: &str,
        status: Option<&str>,
        description: &str,
    ) -> Result<String, AppError> {
        let case = self
            .store
            .case_by_code(request_id)
            .await?
            .ok_or(AppError::NotFound(Resource::Case))?;
        // Only requests the public may see take updates.
        self.public_case(request_id).await?;
        let text = description.trim();
        if text.is_empty() || text.chars().count() > 2000 {
            return Err(AppError::invalid(
                "description",
                "describe the update (1 to 2,000 characters)",
                "请填写补充说明（1 至 2000 字）",
            ));
        }
        let note = match status.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => format!("{text}（{s}）"),
            None => text.to_owned(),
        };
        let now = self.now();
        let event = wangge_store::CaseEvent {
            at: now,
            actor_id: Some(key.user_id),
            action: "comment".into(),
            from_state: Some(case.state.clone()),
            to_state: case.state.clone(),
            visibility: "public".into(),
            note,
            ..wangge_store::CaseEvent::default()
        };
        let audit = wangge_store::AuditEntry::new(now, Some(key.user_id), "open311.update", "case")
            .detail(serde_json::json!({ "update_id": update_id }));
        let (event_id, _) = self
            .store
            .add_client_update(key.id, update_id.to_owned(), case.id, event, audit)
            .await?;
        Ok(event_id.to_string())
    }
}
