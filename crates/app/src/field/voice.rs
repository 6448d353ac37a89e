//! Opinions (社情民意) and notices (宣传).

use serde::{Deserialize, Serialize};
use serde_json::json;
use wangge_core::org::Id;
use wangge_core::policy::{Actor, FieldAction, Role};
use wangge_core::voice::{NoticeLevel, OpinionStatus, RelayMode, Topic, check_text};
use wangge_store::AuditEntry;
use wangge_store::field::voice::{self as store, NewNotice, NewOpinion, NewRelay};
pub use wangge_store::field::voice::{Notice, Opinion, Relay};

use super::{Period, code, text};
use crate::cases::CaseForm;
use crate::{App, AppError, Resource};

#[derive(Debug, Clone, Deserialize)]
pub struct OpinionForm {
    pub topic: String,
    pub body: String,
    /// Who voiced it ("12栋居民", a name); a resident's own opinion names them.
    #[serde(default)]
    pub voiced_by: String,
    /// The grid it comes from; the worker's only grid when not given. A
    /// resident's opinion goes to the grid of the position they give.
    #[serde(default)]
    pub grid_id: Option<Id>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NoticeForm {
    pub level: String,
    pub unit_id: Id,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RelayForm {
    pub mode: String,
    /// Households or people reached.
    #[serde(default)]
    pub reach: i64,
    #[serde(default)]
    pub note: String,
    /// The grid passed on in; the worker's only grid when not given.
    #[serde(default)]
    pub grid_id: Option<Id>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeDetail {
    pub notice: Notice,
    pub relays: Vec<Relay>,
    /// Grids in the viewer's scope the notice reaches and whether anyone
    /// passed it on there: `(grid id, grid name, relays)`.
    pub grids: Vec<(Id, String, i64)>,
}

impl App {
    /// Records an opinion: by a worker for her grid, or by a resident for
    /// the grid of the position they give.
    pub async fn add_opinion(&self, actor: &Actor, form: OpinionForm) -> Result<Opinion, AppError> {
        let topic = code("topic", &form.topic, Topic::parse)?;
        let body =
            check_text(&form.body, 1000).map_err(|m| AppError::invalid("body", m.clone(), m))?;
        let grid_id = if actor.role == Role::Resident {
            let point = match (form.lat, form.lon) {
                (Some(lat), Some(lon)) => wangge_core::GeoPoint::new(lon, lat).ok(),
                _ => None,
            };
            let located = match point {
                Some(p) => self.locate_named(p).await?,
                None => None,
            };
            located.map(|(g, _, _)| g).ok_or_else(|| {
                AppError::invalid(
                    "location",
                    "give a position inside the community",
                    "请提供您所在的位置（需在社区网格内）",
                )
            })?
        } else {
            let grids = self
                .field_grids_or_forbidden(actor, FieldAction::Work)
                .await?;
            match form.grid_id {
                Some(g) => {
                    Self::in_grids(&grids, g, Resource::Grid)?;
                    g
                }
                None if grids.len() == 1 => grids[0],
                None => {
                    return Err(AppError::invalid("grid_id", "say which grid", "请选择网格"));
                }
            }
        };
        let id = store::add_opinion(
            &**self.store(),
            NewOpinion {
                grid_id,
                topic,
                body,
                voiced_by: text("voiced_by", &form.voiced_by, 40)?,
                submitted_by: actor.user_id,
                at: self.now(),
            },
        )
        .await?;
        self.opinion(actor, id).await
    }

    /// Opinions of the grids in scope, and the actor's own.
    pub async fn opinions(
        &self,
        actor: &Actor,
        status: Option<OpinionStatus>,
        topic: Option<Topic>,
    ) -> Result<Vec<Opinion>, AppError> {
        let grids = self.field_grids(actor, FieldAction::Read).await?;
        Ok(store::opinions(&**self.store(), &grids, actor.user_id, status, topic, 500).await?)
    }

    pub async fn opinion(&self, actor: &Actor, id: Id) -> Result<Opinion, AppError> {
        let grids = self.field_grids(actor, FieldAction::Read).await?;
        store::opinion_by_id(&**self.store(), id)
            .await?
            .filter(|o| o.submitted_by == actor.user_id || grids.contains(&o.grid_id))
            .ok_or(AppError::NotFound(Resource::Opinion))
    }

    async fn workable_opinion(&self, actor: &Actor, id: Id) -> Result<Opinion, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Work)
            .await?;
        let opinion = store::opinion_by_id(&**self.store(), id)
            .await?
            .filter(|o| grids.contains(&o.grid_id))
            .ok_or(AppError::NotFound(Resource::Opinion))?;
        if opinion.status != OpinionStatus::Open {
            return Err(AppError::not_now(
                "the opinion has been answered",
                "该意见已答复或已转为事件",
            ));
        }
        Ok(opinion)
    }

    /// Answers an open opinion of the actor's grids.
    pub async fn answer_opinion(
        &self,
        actor: &Actor,
        id: Id,
        answer: &str,
    ) -> Result<Opinion, AppError> {
        self.workable_opinion(actor, id).await?;
        let answer =
            check_text(answer, 1000).map_err(|m| AppError::invalid("answer", m.clone(), m))?;
        let now = self.now();
        store::answer(
            &**self.store(),
            id,
            &answer,
            actor.user_id,
            now,
            AuditEntry::new(now, Some(actor.user_id), "opinion.answer", "opinion").record(id),
        )
        .await?;
        self.opinion(actor, id).await
    }

    /// Turns an open opinion into a case of `category`; the opinion then
    /// links to it.
    pub async fn opinion_to_case(
        &self,
        actor: &Actor,
        id: Id,
        category: &str,
        address: &str,
    ) -> Result<(Opinion, Id), AppError> {
        let opinion = self.workable_opinion(actor, id).await?;
        let form = CaseForm {
            category: category.trim().to_owned(),
            description: format!(
                "居民意见（{}）：{}",
                opinion.topic.label(wangge_core::Lang::Zh),
                opinion.body
            ),
            lat: None,
            lon: None,
            address: text("address", address, 120)?,
            urgency: "normal".into(),
            source: Some("patrol".into()),
            answers: Default::default(),
            caller_name: None,
            photos: Vec::new(),
            patrol_id: None,
        };
        let (case, _) = self
            .report_case(actor, &form, Some(&format!("opinion-{id}")))
            .await?;
        let now = self.now();
        store::converted(
            &**self.store(),
            id,
            case.id,
            actor.user_id,
            now,
            AuditEntry::new(now, Some(actor.user_id), "opinion.to_case", "opinion")
                .record(id)
                .detail(json!({ "case_id": case.id })),
        )
        .await?;
        Ok((self.opinion(actor, id).await?, case.id))
    }

    /// Opinions by topic in the grids in scope over a period.
    pub async fn opinion_topics(
        &self,
        actor: &Actor,
        period: &Period,
    ) -> Result<Vec<(Topic, i64)>, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Read)
            .await?;
        Ok(store::topics(&**self.store(), &grids, period.from, period.to).await?)
    }

    /// Publishes a notice to a grid, community or street the actor plans for.
    pub async fn publish_notice(
        &self,
        actor: &Actor,
        form: NoticeForm,
    ) -> Result<NoticeDetail, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Plan)
            .await?;
        let level = code("level", &form.level, NoticeLevel::parse)?;
        let summaries = self.list_grids(None).await?;
        let mine = summaries.iter().filter(|g| grids.contains(&g.grid.id));
        let unit_name = match level {
            NoticeLevel::Grid => mine
                .clone()
                .find(|g| g.grid.id == form.unit_id)
                .map(|g| g.grid.name.clone()),
            NoticeLevel::Community => mine
                .clone()
                .find(|g| g.grid.community_id == form.unit_id)
                .map(|g| g.community_name.clone()),
            NoticeLevel::Street => {
                let communities = self.list_communities().await?;
                mine.clone()
                    .filter_map(|g| {
                        communities
                            .iter()
                            .find(|c| c.community.id == g.grid.community_id)
                    })
                    .find(|c| c.community.street_id == form.unit_id)
                    .map(|c| c.street_name.clone())
            }
        };
        // A whole community or street only by who plans for all of it.
        let covers = |count_mine: usize, count_all: usize| count_mine == count_all;
        let whole = match level {
            NoticeLevel::Grid => true,
            NoticeLevel::Community => covers(
                mine.clone()
                    .filter(|g| g.grid.community_id == form.unit_id)
                    .count(),
                summaries
                    .iter()
                    .filter(|g| g.grid.community_id == form.unit_id)
                    .count(),
            ),
            NoticeLevel::Street => actor.streets.contains(&form.unit_id),
        };
        let unit_name = unit_name
            .filter(|_| whole)
            .ok_or(AppError::NotFound(match level {
                NoticeLevel::Grid => Resource::Grid,
                _ => Resource::Community,
            }))?;
        let title =
            check_text(&form.title, 80).map_err(|m| AppError::invalid("title", m.clone(), m))?;
        let body =
            check_text(&form.body, 5000).map_err(|m| AppError::invalid("body", m.clone(), m))?;
        let now = self.now();
        let id = store::publish(
            &**self.store(),
            NewNotice {
                level,
                unit_id: form.unit_id,
                unit_name,
                title,
                body,
                published_by: actor.user_id,
                at: now,
            },
            AuditEntry::new(now, Some(actor.user_id), "notice.publish", "notice")
                .detail(json!({ "level": level.as_str(), "unit_id": form.unit_id })),
        )
        .await?;
        self.notice(actor, id).await
    }

    /// Notices reaching the grids in scope, newest first.
    pub async fn notices(&self, actor: &Actor) -> Result<Vec<Notice>, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Read)
            .await?;
        Ok(store::notices(&**self.store(), &grids, actor.user_id, 200).await?)
    }

    /// A notice reaching the viewer's grids, with who passed it on where.
    pub async fn notice(&self, actor: &Actor, id: Id) -> Result<NoticeDetail, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Read)
            .await?;
        let notice = store::notice_in_scope(&**self.store(), id, &grids, actor.user_id)
            .await?
            .ok_or(AppError::NotFound(Resource::Notice))?;
        let relays = store::relays(&**self.store(), id).await?;
        let summaries = self.list_grids(None).await?;
        let communities = self.list_communities().await?;
        let reached = summaries
            .into_iter()
            .filter(|g| grids.contains(&g.grid.id))
            .filter(|g| match notice.level {
                NoticeLevel::Grid => g.grid.id == notice.unit_id,
                NoticeLevel::Community => g.grid.community_id == notice.unit_id,
                NoticeLevel::Street => communities.iter().any(|c| {
                    c.community.id == g.grid.community_id && c.community.street_id == notice.unit_id
                }),
            })
            .map(|g| {
                let n = relays.iter().filter(|r| r.grid_id == g.grid.id).count() as i64;
                (g.grid.id, g.grid.name, n)
            })
            .collect();
        Ok(NoticeDetail {
            notice,
            relays,
            grids: reached,
        })
    }

    /// Records that the actor passed a notice on in one of her grids.
    pub async fn relay_notice(
        &self,
        actor: &Actor,
        id: Id,
        form: RelayForm,
    ) -> Result<NoticeDetail, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Work)
            .await?;
        let detail = self.notice(actor, id).await?;
        let grid_id = match form.grid_id {
            Some(g) => g,
            None if grids.len() == 1 => grids[0],
            None => return Err(AppError::invalid("grid_id", "say which grid", "请选择网格")),
        };
        if !detail.grids.iter().any(|(g, _, _)| *g == grid_id) || !grids.contains(&grid_id) {
            return Err(AppError::NotFound(Resource::Grid));
        }
        if !(0..=100_000).contains(&form.reach) {
            return Err(AppError::invalid(
                "reach",
                "reach is a count of people",
                "覆盖人数应为 0 到 100000",
            ));
        }
        store::relay(
            &**self.store(),
            NewRelay {
                notice_id: id,
                worker_id: actor.user_id,
                grid_id,
                at: self.now(),
                mode: code("mode", &form.mode, RelayMode::parse)?,
                reach: form.reach,
                note: text("note", &form.note, 200)?,
            },
        )
        .await?;
        self.notice(actor, id).await
    }
}
