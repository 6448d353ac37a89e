//! Campaigns (专项工作): targeting, teams, the door-to-door checklist,
//! progress by grid, building and unit, and QR check-in cards.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use wangge_core::campaign::{
    self as rules, Facts, Progress, TargetFilter, TargetKind, TargetReason, TargetStatus, Template,
    door_to_door_key,
};
use wangge_core::org::Id;
use wangge_core::policy::{Actor, FieldAction, Role, works_assigned_targets};
use wangge_core::register::{age_on, mask_name};
use wangge_store::AuditEntry;
use wangge_store::field::campaign::{
    self as store, NewCampaign, NewTarget, TargetChange, TargetEvent, TargetScope,
};

pub use wangge_store::field::campaign::{Campaign, Target, TeamMember};

use super::{code, text};
use crate::privacy::random_bytes;
use crate::{App, AppError, Resource};

#[derive(Debug, Clone, Deserialize)]
pub struct CampaignForm {
    pub template: String,
    #[serde(default)]
    pub name: String,
    /// The template's goal when empty.
    #[serde(default)]
    pub goal: String,
    /// The actor's only community when not given.
    #[serde(default)]
    pub community_id: Option<Id>,
    pub starts_on: Date,
    pub ends_on: Date,
    /// The template's filter when not given.
    #[serde(default)]
    pub filter: Option<TargetFilter>,
}

/// Progress of one place: a grid, a building or a unit.
#[derive(Debug, Clone, Serialize)]
pub struct PlaceProgress {
    pub key: String,
    pub label: String,
    pub progress: Progress,
    pub awareness: String,
    pub completion: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CampaignDetail {
    pub campaign: Campaign,
    /// Of the targets the viewer sees.
    pub progress: Progress,
    pub awareness: String,
    pub completion: String,
    pub by_grid: Vec<PlaceProgress>,
    pub by_building: Vec<PlaceProgress>,
    pub by_unit: Vec<PlaceProgress>,
    pub team: Vec<TeamMember>,
    /// The reasons offered on its targets.
    pub reasons: Vec<TargetReason>,
    pub with_safety_check: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TargetForm {
    pub status: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: String,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetDetail {
    pub target: Target,
    pub events: Vec<TargetEvent>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TeamForm {
    pub user_id: Id,
    pub building_id: Id,
    #[serde(default)]
    pub unit_id: Option<Id>,
}

/// A printed QR card: the token it carries and what is printed beside it.
#[derive(Debug, Clone, Serialize)]
pub struct QrCard {
    pub resident_id: Id,
    /// Given once, printed, never stored (only its hash is).
    pub token: String,
    pub url: String,
    pub name_masked: String,
    pub place: String,
}

/// What a scanned QR card shows the worker holding the phone.
#[derive(Debug, Clone, Serialize)]
pub struct Scan {
    pub name_masked: String,
    pub place: String,
    pub revoked: bool,
    /// Open targets of the resident in running campaigns the viewer works.
    pub targets: Vec<(String, Target)>,
}

pub(crate) fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.trim().as_bytes()).to_vec()
}

impl App {
    /// The targets `actor` works or sees: a team member's assigned
    /// buildings, or the grids of the field scope for `action`.
    async fn target_scope(
        &self,
        actor: &Actor,
        action: FieldAction,
    ) -> Result<TargetScope, AppError> {
        if works_assigned_targets(actor) {
            return Ok(TargetScope::Assigned(actor.user_id));
        }
        Ok(TargetScope::Grids(
            self.field_grids_or_forbidden(actor, action).await?,
        ))
    }

    /// Communities holding any of the grids.
    async fn communities_of(&self, grids: &[Id]) -> Result<Vec<Id>, AppError> {
        let mut out: Vec<Id> = self
            .list_grids(None)
            .await?
            .into_iter()
            .filter(|g| grids.contains(&g.grid.id))
            .map(|g| g.grid.community_id)
            .collect();
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// A campaign the actor may see: of a community in her read scope, or
    /// one she is on the team of.
    async fn visible_campaign(&self, actor: &Actor, id: Id) -> Result<Campaign, AppError> {
        let campaign = store::get(&**self.store(), id)
            .await?
            .ok_or(AppError::NotFound(Resource::Campaign))?;
        let visible = if works_assigned_targets(actor) {
            store::team(&**self.store(), id)
                .await?
                .iter()
                .any(|m| m.user_id == actor.user_id)
        } else {
            let grids = self.field_grids(actor, FieldAction::Read).await?;
            self.communities_of(&grids)
                .await?
                .contains(&campaign.community_id)
        };
        if visible {
            Ok(campaign)
        } else {
            Err(AppError::NotFound(Resource::Campaign))
        }
    }

    /// Campaigns the actor sees, latest ending first.
    pub async fn campaigns(&self, actor: &Actor) -> Result<Vec<Campaign>, AppError> {
        let communities = if works_assigned_targets(actor) {
            Vec::new()
        } else {
            let grids = self
                .field_grids_or_forbidden(actor, FieldAction::Read)
                .await?;
            self.communities_of(&grids).await?
        };
        Ok(store::list(&**self.store(), &communities, actor.user_id).await?)
    }

    /// Creates a campaign from a template: its targets are everyone (or
    /// every business) of the community's grids in the planner's scope
    /// that the filter picks today.
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        form: CampaignForm,
    ) -> Result<CampaignDetail, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Plan)
            .await?;
        let template = code("template", &form.template, Template::parse)?;
        let communities = self.communities_of(&grids).await?;
        let community_id = match form.community_id {
            Some(c) if communities.contains(&c) => c,
            Some(_) => return Err(AppError::NotFound(Resource::Community)),
            None if communities.len() == 1 => communities[0],
            None => {
                return Err(AppError::invalid(
                    "community_id",
                    "say which community the campaign is in",
                    "请选择专项工作所在的社区",
                ));
            }
        };
        let today = self.today();
        let filter = form.filter.unwrap_or_else(|| template.filter(today));
        let kind = template.kind();
        filter
            .check(kind)
            .map_err(|m| AppError::invalid("filter", m.clone(), m))?;
        if form.ends_on < form.starts_on {
            return Err(AppError::invalid(
                "ends_on",
                "the campaign ends before it starts",
                "结束日期早于开始日期",
            ));
        }
        let in_community: Vec<Id> = self
            .list_grids(None)
            .await?
            .into_iter()
            .filter(|g| g.grid.community_id == community_id && grids.contains(&g.grid.id))
            .map(|g| g.grid.id)
            .collect();
        if let Some(g) = filter.grid_ids.iter().find(|g| !in_community.contains(g)) {
            return Err(AppError::invalid(
                "filter",
                format!("grid {g} is not one of yours in this community"),
                "所选网格不在您负责的本社区网格内",
            ));
        }
        let name = text("name", &form.name, 60)?;
        let name = if name.is_empty() {
            template.label(wangge_core::Lang::Zh).to_owned()
        } else {
            name
        };
        let goal = text("goal", &form.goal, 500)?;
        let goal = if goal.is_empty() {
            template.goal().to_owned()
        } else {
            goal
        };
        let targets: Vec<NewTarget> = store::candidates(&**self.store(), kind, &in_community)
            .await?
            .into_iter()
            .filter(|(c, _)| filter.picks(c, today))
            .map(|(c, label)| NewTarget {
                subject_id: c.subject_id,
                placement: c.placement,
                label,
            })
            .collect();
        let now = self.now();
        let count = targets.len();
        let id = store::create(
            &**self.store(),
            NewCampaign {
                name,
                template,
                goal,
                kind,
                community_id,
                starts_on: form.starts_on,
                ends_on: form.ends_on,
                filter,
                created_by: actor.user_id,
                created_at: now,
            },
            targets,
            AuditEntry::new(now, Some(actor.user_id), "campaign.create", "campaign")
                .detail(json!({ "template": template.as_str(), "targets": count })),
        )
        .await?;
        self.campaign(actor, id).await
    }

    /// A campaign with the viewer's progress by grid, building and unit.
    pub async fn campaign(&self, actor: &Actor, id: Id) -> Result<CampaignDetail, AppError> {
        let campaign = self.visible_campaign(actor, id).await?;
        let scope = self.target_scope(actor, FieldAction::Read).await?;
        let rows = store::progress(&**self.store(), id, &scope).await?;
        let grid_names: HashMap<Id, String> = self
            .list_grids(None)
            .await?
            .into_iter()
            .map(|g| (g.grid.id, g.grid.name))
            .collect();
        let mut total = Progress::default();
        let mut grids: BTreeMap<Id, Progress> = BTreeMap::new();
        let mut buildings: BTreeMap<(String, Id), Progress> = BTreeMap::new();
        let mut units: BTreeMap<(String, i64, Id), Progress> = BTreeMap::new();
        for r in &rows {
            total.add(r.status, r.count);
            grids.entry(r.grid_id).or_default().add(r.status, r.count);
            if let (Some(b), Some(number)) = (r.building_id, &r.building_number) {
                let key = (format!("{:>8}", number), b);
                buildings.entry(key).or_default().add(r.status, r.count);
                if let (Some(u), Some(n)) = (r.unit_id, r.unit_number) {
                    units
                        .entry((format!("{:>8}", number), n, u))
                        .or_default()
                        .add(r.status, r.count);
                }
            }
        }
        let place = |key: String, label: String, p: Progress| PlaceProgress {
            key,
            label,
            awareness: rules::percent(p.awareness()),
            completion: rules::percent(p.completion()),
            progress: p,
        };
        Ok(CampaignDetail {
            awareness: rules::percent(total.awareness()),
            completion: rules::percent(total.completion()),
            progress: total,
            by_grid: grids
                .into_iter()
                .map(|(g, p)| {
                    place(
                        g.to_string(),
                        grid_names.get(&g).cloned().unwrap_or_default(),
                        p,
                    )
                })
                .collect(),
            by_building: buildings
                .into_iter()
                .map(|((n, b), p)| place(b.to_string(), format!("{}栋", n.trim()), p))
                .collect(),
            by_unit: units
                .into_iter()
                .map(|((n, u, id), p)| place(id.to_string(), format!("{}栋{}单元", n.trim(), u), p))
                .collect(),
            team: store::team(&**self.store(), id).await?,
            reasons: campaign.template.reasons().to_vec(),
            with_safety_check: campaign.template.with_safety_check(),
            campaign,
        })
    }

    /// The viewer's targets of a campaign in door-to-door order (building,
    /// unit, floor, door), of one building or status when given.
    pub async fn campaign_targets(
        &self,
        actor: &Actor,
        campaign_id: Id,
        building_id: Option<Id>,
        status: Option<TargetStatus>,
    ) -> Result<Vec<Target>, AppError> {
        self.visible_campaign(actor, campaign_id).await?;
        let scope = self.target_scope(actor, FieldAction::Read).await?;
        let mut list = store::targets(
            &**self.store(),
            campaign_id,
            &scope,
            building_id,
            status,
            20_000,
        )
        .await?;
        list.sort_by(|a, b| door_to_door_key(&a.placement).cmp(&door_to_door_key(&b.placement)));
        Ok(list)
    }

    pub async fn campaign_target(&self, actor: &Actor, id: Id) -> Result<TargetDetail, AppError> {
        let scope = self.target_scope(actor, FieldAction::Read).await?;
        let target = store::target_by_id(&**self.store(), id, &scope)
            .await?
            .ok_or(AppError::NotFound(Resource::Target))?;
        Ok(TargetDetail {
            events: store::target_events(&**self.store(), id).await?,
            target,
        })
    }

    /// Records a target's new status (with the reason when it cannot be
    /// done), if no one changed it since `version`.
    pub async fn update_target(
        &self,
        actor: &Actor,
        id: Id,
        form: TargetForm,
    ) -> Result<TargetDetail, AppError> {
        let scope = self.target_scope(actor, FieldAction::Work).await?;
        let target = store::target_by_id(&**self.store(), id, &scope)
            .await?
            .ok_or(AppError::NotFound(Resource::Target))?;
        let campaign = store::get(&**self.store(), target.campaign_id)
            .await?
            .ok_or(AppError::NotFound(Resource::Campaign))?;
        let status = code("status", &form.status, TargetStatus::parse)?;
        let reason = match form
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            Some(r) => {
                let reason = code("reason", r, TargetReason::parse)?;
                if !campaign.template.reasons().contains(&reason) {
                    return Err(AppError::invalid(
                        "reason",
                        "not a reason this campaign offers",
                        "该专项工作没有这个原因选项",
                    ));
                }
                Some(reason)
            }
            None => None,
        };
        rules::check_move(target.status, status, reason)
            .map_err(|e| AppError::not_now(e.to_string(), e.zh()))?;
        let now = self.now();
        // A business target's outcome is the business's registration on
        // the register, changed with it (and audited as a register change).
        let (app_registration, audit) = if campaign.kind == TargetKind::Business {
            let (app, why) = rules::app_registration(status, reason);
            let audit =
                AuditEntry::new(now, Some(actor.user_id), "business.app_status", "business")
                    .record(target.subject_id)
                    .detail(json!({ "campaign_id": campaign.id, "app_status": app.as_str() }));
            (Some((app, why)), Some(audit))
        } else {
            (None, None)
        };
        store::update_target(
            &**self.store(),
            id,
            target.subject_id,
            form.version,
            TargetChange {
                status,
                reason,
                note: text("note", &form.note, 200)?,
                by: actor.user_id,
                at: now,
                via: "form",
                app_registration,
            },
            audit,
        )
        .await?;
        self.campaign_target(actor, id).await
    }

    /// Puts a unit leader, volunteer or grid worker on a campaign's team
    /// for a building (or one unit of it).
    pub async fn assign_team(
        &self,
        actor: &Actor,
        campaign_id: Id,
        form: TeamForm,
    ) -> Result<Vec<TeamMember>, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Plan)
            .await?;
        let campaign = self.visible_campaign(actor, campaign_id).await?;
        let user = self
            .store()
            .user(form.user_id)
            .await?
            .ok_or(AppError::NotFound(Resource::User))?;
        if !matches!(
            Role::parse(&user.role),
            Some(Role::UnitLeader | Role::Volunteer | Role::GridWorker | Role::GridLeader)
        ) {
            return Err(AppError::invalid(
                "user_id",
                "teams are grid workers, unit leaders and volunteers",
                "团队成员应为网格员、单元长或志愿者",
            ));
        }
        let building = self
            .store()
            .building(form.building_id)
            .await?
            .filter(|b| b.community_id == campaign.community_id && grids.contains(&b.grid_id))
            .ok_or(AppError::NotFound(Resource::Building))?;
        if let Some(u) = form.unit_id
            && !self
                .store()
                .units_of_building(building.id)
                .await?
                .iter()
                .any(|x| x.id == u)
        {
            return Err(AppError::invalid(
                "unit_id",
                "no such unit in the building",
                "该楼栋没有这个单元",
            ));
        }
        store::assign(
            &**self.store(),
            campaign_id,
            user.id,
            building.id,
            form.unit_id,
            AuditEntry::new(
                self.now(),
                Some(actor.user_id),
                "campaign.assign",
                "campaign",
            )
            .record(campaign_id)
            .detail(
                json!({ "user_id": user.id, "building_id": building.id, "unit_id": form.unit_id }),
            ),
        )
        .await?;
        Ok(store::team(&**self.store(), campaign_id).await?)
    }

    pub async fn unassign_team(
        &self,
        actor: &Actor,
        campaign_id: Id,
        member_id: Id,
    ) -> Result<Vec<TeamMember>, AppError> {
        self.field_grids_or_forbidden(actor, FieldAction::Plan)
            .await?;
        self.visible_campaign(actor, campaign_id).await?;
        store::unassign(
            &**self.store(),
            campaign_id,
            member_id,
            AuditEntry::new(
                self.now(),
                Some(actor.user_id),
                "campaign.unassign",
                "campaign",
            )
            .record(campaign_id)
            .detail(json!({ "member_id": member_id })),
        )
        .await?;
        Ok(store::team(&**self.store(), campaign_id).await?)
    }

    /// Issues QR cards to a resident campaign's targets in the actor's
    /// grids, those at least `min_age` and (with `without_phone`) without
    /// a phone on the register. Each card revokes the resident's earlier
    /// one. `origin` is where the scan page is served (`https://host`).
    pub async fn issue_qr_cards(
        &self,
        actor: &Actor,
        campaign_id: Id,
        min_age: Option<i16>,
        without_phone: bool,
        origin: &str,
    ) -> Result<Vec<QrCard>, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Work)
            .await?;
        let campaign = self.visible_campaign(actor, campaign_id).await?;
        if campaign.kind != TargetKind::Resident {
            return Err(AppError::invalid(
                "campaign",
                "QR cards are for residents",
                "二维码卡片只用于面向居民的工作",
            ));
        }
        let today = self.today();
        let facts: HashMap<Id, Facts> =
            store::candidates(&**self.store(), TargetKind::Resident, &grids)
                .await?
                .into_iter()
                .map(|(c, _)| (c.subject_id, c.facts))
                .collect();
        let mut targets = store::targets(
            &**self.store(),
            campaign_id,
            &TargetScope::Grids(grids),
            None,
            None,
            20_000,
        )
        .await?;
        targets.sort_by(|a, b| door_to_door_key(&a.placement).cmp(&door_to_door_key(&b.placement)));
        let mut cards = Vec::new();
        for t in targets {
            let Some(Facts::Resident {
                birth_date,
                has_phone,
                ..
            }) = facts.get(&t.subject_id)
            else {
                continue;
            };
            if min_age.is_some_and(|a| age_on(*birth_date, today) < a)
                || (without_phone && *has_phone)
            {
                continue;
            }
            let token = URL_SAFE_NO_PAD
                .encode(random_bytes::<16>().map_err(|e| AppError::Internal(e.to_string()))?);
            cards.push(QrCard {
                resident_id: t.subject_id,
                url: format!("{}/q/{token}", origin.trim_end_matches('/')),
                token,
                name_masked: mask_name(&t.label),
                place: t.placement.label(),
            });
        }
        let now = self.now();
        store::issue_tokens(
            &**self.store(),
            cards
                .iter()
                .map(|c| (token_hash(&c.token), c.resident_id))
                .collect(),
            actor.user_id,
            now,
            AuditEntry::new(now, Some(actor.user_id), "qr.issue", "campaign")
                .record(campaign_id)
                .detail(json!({ "cards": cards.len() })),
        )
        .await?;
        Ok(cards)
    }

    /// What a scanned card shows: the masked name, the place and the
    /// resident's open targets in running campaigns the scanner works.
    pub async fn scan(&self, actor: &Actor, token: &str) -> Result<Scan, AppError> {
        let qr = store::token_by_hash(&**self.store(), &token_hash(token))
            .await?
            .ok_or(AppError::NotFound(Resource::Token))?;
        let scope = self.target_scope(actor, FieldAction::Work).await?;
        let targets = store::targets_of_subject(
            &**self.store(),
            qr.resident_id,
            TargetKind::Resident,
            &scope,
            self.today(),
        )
        .await?;
        let Some(first) = targets.first() else {
            // Not a resident of the scanner's campaigns: nothing to show.
            return Err(AppError::NotFound(Resource::Token));
        };
        let (name_masked, place) = (mask_name(&first.label), first.placement.label());
        let mut open = Vec::new();
        for t in targets {
            if t.status != TargetStatus::Done {
                let name = store::get(&**self.store(), t.campaign_id)
                    .await?
                    .map(|c| c.name)
                    .unwrap_or_default();
                open.push((name, t));
            }
        }
        Ok(Scan {
            name_masked,
            place,
            revoked: qr.revoked_at.is_some(),
            targets: open,
        })
    }

    /// Checks a scanned card in: the target (the resident's, in a running
    /// campaign the scanner works) is done. A revoked card checks in nothing.
    pub async fn scan_check_in(
        &self,
        actor: &Actor,
        token: &str,
        target_id: Id,
    ) -> Result<TargetDetail, AppError> {
        let qr = store::token_by_hash(&**self.store(), &token_hash(token))
            .await?
            .ok_or(AppError::NotFound(Resource::Token))?;
        if qr.revoked_at.is_some() {
            return Err(AppError::not_now(
                "this card was revoked; use the resident's new card",
                "该二维码已作废，请使用新卡片",
            ));
        }
        let scope = self.target_scope(actor, FieldAction::Work).await?;
        let target = store::targets_of_subject(
            &**self.store(),
            qr.resident_id,
            TargetKind::Resident,
            &scope,
            self.today(),
        )
        .await?
        .into_iter()
        .find(|t| t.id == target_id)
        .ok_or(AppError::NotFound(Resource::Target))?;
        rules::check_move(target.status, TargetStatus::Done, None)
            .map_err(|e| AppError::not_now(e.to_string(), e.zh()))?;
        store::update_target(
            &**self.store(),
            target.id,
            target.subject_id,
            target.version,
            TargetChange {
                status: TargetStatus::Done,
                reason: None,
                note: "现场扫码签到".into(),
                by: actor.user_id,
                at: self.now(),
                via: "qr",
                app_registration: None,
            },
            None,
        )
        .await?;
        self.campaign_target(actor, target.id).await
    }

    /// Revokes a resident's cards (lost, or given to someone else).
    pub async fn revoke_qr(&self, actor: &Actor, resident_id: Id) -> Result<u64, AppError> {
        let grids = self
            .field_grids_or_forbidden(actor, FieldAction::Work)
            .await?;
        self.store()
            .resident(&wangge_store::ScopeFilter::grids(grids), resident_id)
            .await?
            .ok_or(AppError::NotFound(Resource::Resident))?;
        let now = self.now();
        Ok(store::revoke_tokens(
            &**self.store(),
            resident_id,
            now,
            AuditEntry::new(now, Some(actor.user_id), "qr.revoke", "resident").record(resident_id),
        )
        .await?)
    }
}
