//! What administrators change: case categories (names, departments, time
//! limits, closure conditions, questions, whether residents see them,
//! whether they are in use) and the working calendar (holidays and make-up
//! workdays). Every change is audited; every app node sees it within the
//! reference cache's 30 seconds, this one at once.

use serde::{Deserialize, Serialize};
use serde_json::json;
use wangge_core::calendar::Limit;
use wangge_core::category::{Question, StepLimits};
use wangge_core::policy::Actor;
pub use wangge_store::CategoryRecord;
use wangge_store::{AuditEntry, StoreError};

use crate::App;
use crate::error::AppError;

/// A change to a category; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CategoryEdit {
    pub name: Option<String>,
    /// Department code; `""` for none.
    pub department: Option<String>,
    pub overall: Option<Limit>,
    pub steps: Option<StepLimits>,
    pub closure: Option<String>,
    pub questions: Option<Vec<Question>>,
    pub public: Option<bool>,
    pub active: Option<bool>,
}

/// A day of the working calendar that differs from the weekly rhythm.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CalendarDay {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// `holiday` or `workday` (a make-up workday on a weekend).
    pub kind: String,
    pub name: String,
}

use crate::require_admin;

impl App {
    /// Changes a category; answers it as stored.
    pub async fn edit_category(
        &self,
        actor: &Actor,
        code: &str,
        edit: CategoryEdit,
    ) -> Result<CategoryRecord, AppError> {
        require_admin(actor)?;
        let reference = self.reference().await?;
        let mut record = reference
            .categories
            .iter()
            .find(|c| c.spec.code == code)
            .cloned()
            .ok_or_else(|| AppError::invalid("category", "no such category", "没有这个事件类别"))?;
        if let Some(name) = edit.name {
            let name = name.trim().to_owned();
            if name.is_empty() || name.chars().count() > 50 {
                return Err(AppError::invalid(
                    "name",
                    "1 to 50 characters",
                    "名称应为 1 至 50 字",
                ));
            }
            record.spec.name = name;
        }
        if let Some(d) = edit.department {
            record.department_id = if d.trim().is_empty() {
                None
            } else {
                Some(
                    reference
                        .departments
                        .iter()
                        .find(|x| x.code == d.trim())
                        .map(|x| x.id)
                        .ok_or_else(|| {
                            AppError::invalid(
                                "department",
                                "no such department",
                                "没有这个职能部门",
                            )
                        })?,
                )
            };
        }
        if let Some(l) = edit.overall {
            record.spec.overall = l;
        }
        if let Some(s) = edit.steps {
            record.spec.steps = s;
        }
        if let Some(c) = edit.closure {
            record.spec.closure = c.trim().to_owned();
        }
        if let Some(q) = edit.questions {
            record.spec.questions = q;
        }
        if let Some(p) = edit.public {
            record.spec.public = p;
        }
        if let Some(a) = edit.active {
            record.active = a;
        }
        // The same checks as the seed: positive limits, well-formed questions.
        let mut alone = record.spec.clone();
        alone.parent = None;
        wangge_core::category::check(std::slice::from_ref(&alone)).map_err(|e| {
            AppError::invalid("limits", e.to_string(), format!("类别设置有误：{e}"))
        })?;
        let audit = AuditEntry::new(self.now(), Some(actor.user_id), "category.edit", "category")
            .detail(json!({ "code": record.spec.code }));
        self.store.update_category(record.clone(), audit).await?;
        self.forget_reference();
        Ok(record)
    }

    /// The days of the working calendar that differ from the weekly rhythm.
    pub async fn calendar_days(&self) -> Result<Vec<CalendarDay>, AppError> {
        Ok(self
            .store
            .calendar_days()
            .await?
            .into_iter()
            .map(|(day, kind, name)| CalendarDay { day, kind, name })
            .collect())
    }

    /// Sets a holiday or make-up workday.
    pub async fn set_calendar_day(&self, actor: &Actor, day: CalendarDay) -> Result<(), AppError> {
        require_admin(actor)?;
        let date: jiff::civil::Date = day.day.trim().parse().map_err(|_| {
            AppError::invalid("day", "a date as YYYY-MM-DD", "日期格式应为 YYYY-MM-DD")
        })?;
        if !matches!(day.kind.as_str(), "holiday" | "workday") {
            return Err(AppError::invalid(
                "kind",
                "holiday or workday",
                "类型应为节假日（holiday）或调休上班（workday）",
            ));
        }
        let name = day.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 30 {
            return Err(AppError::invalid(
                "name",
                "1 to 30 characters",
                "名称应为 1 至 30 字",
            ));
        }
        let audit = AuditEntry::new(self.now(), Some(actor.user_id), "calendar.set", "calendar")
            .detail(json!({ "day": date.to_string(), "kind": day.kind, "name": name }));
        self.store
            .set_calendar_day(date.to_string(), Some((day.kind, name)), audit)
            .await?;
        self.forget_reference();
        Ok(())
    }

    /// Makes a day ordinary again.
    pub async fn remove_calendar_day(&self, actor: &Actor, day: &str) -> Result<(), AppError> {
        require_admin(actor)?;
        let date: jiff::civil::Date = day.trim().parse().map_err(|_| {
            AppError::invalid("day", "a date as YYYY-MM-DD", "日期格式应为 YYYY-MM-DD")
        })?;
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            "calendar.remove",
            "calendar",
        )
        .detail(json!({ "day": date.to_string() }));
        self.store
            .set_calendar_day(date.to_string(), None, audit)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => AppError::invalid(
                    "day",
                    "that day is an ordinary day already",
                    "该日期不是特殊日期",
                ),
                other => other.into(),
            })?;
        self.forget_reference();
        Ok(())
    }
}

/// A routing rule as administrators see it.
#[derive(Debug, Clone, Serialize)]
pub struct RoutingRuleView {
    pub id: wangge_core::org::Id,
    /// Category code or prefix, and the category's name when it is one.
    pub category: String,
    pub category_name: Option<String>,
    /// The community or street, by code and name; `None`: anywhere.
    pub place_code: Option<String>,
    pub place_name: Option<String>,
    pub department: String,
    pub department_name: String,
}

/// A new routing rule, by codes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RoutingRuleForm {
    /// A category code or a prefix of one (`01`: every public facility).
    pub category: String,
    /// A community's code (12 digits), or a street's (9), or none.
    #[serde(default)]
    pub place: Option<String>,
    pub department: String,
}

impl App {
    pub async fn routing_rules(&self, actor: &Actor) -> Result<Vec<RoutingRuleView>, AppError> {
        require_admin(actor)?;
        let reference = self.reference().await?;
        Ok(reference
            .routing
            .iter()
            .map(|r| {
                let community = r.community_id.and_then(|c| {
                    reference
                        .communities
                        .iter()
                        .find(|x| x.community.id == c)
                        .map(|x| (x.community.code.to_string(), x.community.name.clone()))
                });
                let street = r.street_id.and_then(|s| {
                    reference
                        .communities
                        .iter()
                        .find(|x| x.community.street_id == s)
                        .map(|x| (x.street_code.to_string(), x.street_name.clone()))
                });
                let place = community.or(street);
                let department = reference
                    .departments
                    .iter()
                    .find(|d| d.id == r.department_id);
                RoutingRuleView {
                    id: r.id,
                    category_name: reference
                        .categories
                        .iter()
                        .find(|c| c.spec.code == r.category)
                        .map(|c| c.spec.name.clone()),
                    category: r.category.clone(),
                    place_code: place.as_ref().map(|p| p.0.clone()),
                    place_name: place.map(|p| p.1),
                    department: department.map(|d| d.code.clone()).unwrap_or_default(),
                    department_name: department.map(|d| d.name.clone()).unwrap_or_default(),
                }
            })
            .collect())
    }

    /// Adds a routing rule; new cases follow it (this node at once, the
    /// others within the reference cache's 30 seconds).
    pub async fn add_routing_rule(
        &self,
        actor: &Actor,
        form: RoutingRuleForm,
    ) -> Result<wangge_core::org::Id, AppError> {
        require_admin(actor)?;
        let reference = self.reference().await?;
        let category = form.category.trim().to_owned();
        if category.is_empty()
            || !reference
                .categories
                .iter()
                .any(|c| c.spec.code.starts_with(&category))
        {
            return Err(AppError::invalid(
                "category",
                "a category code, or the start of one",
                "请填写事件类别编码（或其前几位）",
            ));
        }
        let department_id = reference
            .departments
            .iter()
            .find(|d| d.code == form.department.trim())
            .map(|d| d.id)
            .ok_or_else(|| {
                AppError::invalid("department", "no such department", "没有这个职能部门")
            })?;
        let place = form.place.as_deref().map(str::trim).unwrap_or("");
        let (community_id, street_id) = if place.is_empty() {
            (None, None)
        } else if let Some(c) = reference
            .communities
            .iter()
            .find(|c| c.community.code.as_str() == place)
        {
            (Some(c.community.id), None)
        } else if let Some(c) = reference
            .communities
            .iter()
            .find(|c| c.street_code.as_str() == place)
        {
            (None, Some(c.community.street_id))
        } else {
            return Err(AppError::invalid(
                "place",
                "a community's or a street's code, or nothing for anywhere",
                "请填写社区或街道编码，留空表示全部",
            ));
        };
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            "routing.add",
            "routing_rule",
        )
        .detail(json!({ "category": category, "place": place, "department": form.department }));
        let id = self
            .store
            .insert_routing_rule(
                wangge_core::routing::RoutingRule {
                    id: 0,
                    category,
                    community_id,
                    street_id,
                    department_id,
                },
                audit,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => AppError::invalid(
                    "category",
                    "there is a rule for this category and place already",
                    "该类别在该范围已有分派规则",
                ),
                other => other.into(),
            })?;
        self.forget_reference();
        Ok(id)
    }

    pub async fn remove_routing_rule(
        &self,
        actor: &Actor,
        id: wangge_core::org::Id,
    ) -> Result<(), AppError> {
        require_admin(actor)?;
        let audit = AuditEntry::new(
            self.now(),
            Some(actor.user_id),
            "routing.remove",
            "routing_rule",
        );
        self.store
            .delete_routing_rule(id, audit)
            .await
            .map_err(|e| match e {
                StoreError::NotFound(_) => {
                    AppError::invalid("id", "no such routing rule", "没有这条分派规则")
                }
                other => other.into(),
            })?;
        self.forget_reference();
        Ok(())
    }
}
