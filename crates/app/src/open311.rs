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
