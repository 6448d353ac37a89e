//! Campaigns, their teams and targets, and QR check-in tokens.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;
use wangge_core::campaign::{
    Candidate, Facts, Placement, TargetFilter, TargetKind, TargetReason, TargetStatus, Template,
};
use wangge_core::org::Id;
use wangge_core::register::{
    AppReason, AppStatus, BusinessStatus, PoliticalStatus, ResidenceType, Tag,
};

use super::{FieldStore, Row, Val, Write, query, query_one};
use crate::audit::AuditEntry;
use crate::error::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Campaign {
    pub id: Id,
    pub name: String,
    pub template: Template,
    pub goal: String,
    pub kind: TargetKind,
    pub community_id: Id,
    pub starts_on: Date,
    pub ends_on: Date,
    pub filter: TargetFilter,
    pub created_by_name: String,
    pub created_at: Timestamp,
    pub targets: i64,
    pub done: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    pub name: String,
    pub template: Template,
    pub goal: String,
    pub kind: TargetKind,
    pub community_id: Id,
    pub starts_on: Date,
    pub ends_on: Date,
    pub filter: TargetFilter,
    pub created_by: Id,
    pub created_at: Timestamp,
}

/// A target as picked: who, where, and the label shown on lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTarget {
    pub subject_id: Id,
    pub placement: Placement,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Target {
    pub id: Id,
    pub campaign_id: Id,
    pub subject_id: Id,
    pub label: String,
    pub placement: Placement,
    pub status: TargetStatus,
    pub reason: Option<TargetReason>,
    pub note: String,
    pub updated_at: Option<Timestamp>,
    pub updated_by_name: Option<String>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetEvent {
    pub at: Timestamp,
    pub user_name: String,
    pub status: TargetStatus,
    pub reason: Option<TargetReason>,
    pub note: String,
    /// `form` or `qr`.
    pub via: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TeamMember {
    pub id: Id,
    pub user_id: Id,
    pub user_name: String,
    pub role: String,
    pub building_id: Id,
    pub building_number: String,
    pub unit_id: Option<Id>,
    pub unit_number: Option<i64>,
}

/// Targets counted by place and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProgressRow {
    pub grid_id: Id,
    pub building_id: Option<Id>,
    pub building_number: Option<String>,
    pub unit_id: Option<Id>,
    pub unit_number: Option<i64>,
    pub status: TargetStatus,
    pub count: i64,
}

/// Which targets a query sees: those in grids, or those in the buildings
/// and units a team member is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetScope {
    Grids(Vec<Id>),
    Assigned(Id),
}

impl TargetScope {
    fn params(&self) -> [Val; 2] {
        match self {
            TargetScope::Grids(ids) => [Val::Ids(ids.clone()), Val::id(0)],
            TargetScope::Assigned(user) => [Val::Ids(Vec::new()), Val::id(*user)],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QrToken {
    pub id: Id,
    pub resident_id: Id,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

pub(crate) const INSERT_CAMPAIGN: &str = "INSERT INTO campaigns (name, template, goal, kind, community_id, starts_on, ends_on, filter, created_by, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
pub(crate) const INSERT_TARGET: &str = "INSERT INTO campaign_targets (campaign_id, subject_id, grid_id, building_id, building_number, unit_id, unit_number, floor, door, label) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING";
macro_rules! campaign_select {
    ($where:literal) => {
        concat!(
            "SELECT c.id, c.name, c.template, c.goal, c.kind, c.community_id, c.starts_on, c.ends_on, c.filter, \
             u.display_name, c.created_at, \
             (SELECT COUNT(*) FROM campaign_targets t WHERE t.campaign_id = c.id), \
             (SELECT COUNT(*) FROM campaign_targets t WHERE t.campaign_id = c.id AND t.status = 'done') \
             FROM campaigns c JOIN users u ON u.id = c.created_by ",
            $where
        )
    };
}
pub(crate) const CAMPAIGN: &str = campaign_select!("WHERE c.id = $1");
pub(crate) const CAMPAIGNS: &str = campaign_select!(
    "WHERE c.community_id = ANY($1) OR c.id IN (SELECT m.campaign_id FROM campaign_teams m WHERE m.user_id = $2) \
     ORDER BY c.ends_on DESC, c.id DESC"
);
/// `$2` grids, `$3` assigned user: the scope of [`TargetScope`].
macro_rules! in_target_scope {
    () => {
        "(t.grid_id = ANY($2) OR EXISTS (SELECT 1 FROM campaign_teams m WHERE m.campaign_id = t.campaign_id \
         AND m.user_id = $3 AND m.building_id = t.building_id AND (m.unit_id IS NULL OR m.unit_id = t.unit_id)))"
    };
}
macro_rules! target_select {
    ($where:expr) => {
        concat!(
            "SELECT t.id, t.campaign_id, t.subject_id, t.label, t.grid_id, t.building_id, t.building_number, \
             t.unit_id, t.unit_number, t.floor, t.door, t.status, t.reason, t.note, t.updated_at, u.display_name, t.version \
             FROM campaign_targets t LEFT JOIN users u ON u.id = t.updated_by ",
            $where
        )
    };
}
pub(crate) const TARGETS: &str = target_select!(concat!(
    "WHERE t.campaign_id = $1 AND ",
    in_target_scope!(),
    " AND ($4 = 0 OR t.building_id = $4) AND ($5 = '' OR t.status = $5) ORDER BY t.id LIMIT $6"
));
pub(crate) const TARGET: &str = target_select!(concat!("WHERE t.id = $1 AND ", in_target_scope!()));
pub(crate) const TARGETS_OF_SUBJECT: &str = target_select!(concat!(
    "JOIN campaigns c ON c.id = t.campaign_id WHERE t.subject_id = $1 AND ",
    in_target_scope!(),
    " AND c.kind = $4 AND c.starts_on <= $5 AND c.ends_on >= $5 ORDER BY c.id"
));
pub(crate) const PROGRESS: &str = concat!(
    "SELECT t.grid_id, t.building_id, t.building_number, t.unit_id, t.unit_number, t.status, COUNT(*) \
     FROM campaign_targets t WHERE t.campaign_id = $1 AND ",
    in_target_scope!(),
    " GROUP BY t.grid_id, t.building_id, t.building_number, t.unit_id, t.unit_number, t.status"
);
pub(crate) const UPDATE_TARGET: &str = "UPDATE campaign_targets SET status = $1, reason = $2, note = $3, updated_at = $4, updated_by = $5, \
     version = version + 1 WHERE id = $6 AND version = $7";
/// A business's government-app registration, as a business campaign sets it.
pub(crate) const SET_APP_REGISTRATION: &str = "UPDATE businesses SET app_status = $1, app_reason = $2, app_note = $3, \
     version = version + 1, updated_at = $4 WHERE id = $5";
pub(crate) const INSERT_TARGET_EVENT: &str = "INSERT INTO campaign_target_events (target_id, at, user_id, status, reason, note, via) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub(crate) const TARGET_EVENTS: &str = "SELECT e.at, u.display_name, e.status, e.reason, e.note, e.via FROM campaign_target_events e \
     JOIN users u ON u.id = e.user_id WHERE e.target_id = $1 ORDER BY e.at, e.id";
pub(crate) const INSERT_TEAM: &str = "INSERT INTO campaign_teams (campaign_id, user_id, building_id, unit_id) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
pub(crate) const DELETE_TEAM: &str =
    "DELETE FROM campaign_teams WHERE id = $1 AND campaign_id = $2";
pub(crate) const TEAM: &str = "SELECT m.id, m.user_id, u.display_name, u.role, m.building_id, b.number, m.unit_id, n.number \
     FROM campaign_teams m JOIN users u ON u.id = m.user_id JOIN buildings b ON b.id = m.building_id \
     LEFT JOIN units n ON n.id = m.unit_id WHERE m.campaign_id = $1 ORDER BY b.number, n.number, u.display_name";
pub(crate) const INSERT_QR: &str = "INSERT INTO qr_tokens (token_hash, resident_id, created_by, created_at) VALUES ($1, $2, $3, $4)";
pub(crate) const REVOKE_QR_OF: &str =
    "UPDATE qr_tokens SET revoked_at = $1 WHERE resident_id = $2 AND revoked_at IS NULL";
pub(crate) const QR_BY_HASH: &str =
    "SELECT id, resident_id, created_at, revoked_at FROM qr_tokens WHERE token_hash = $1";
pub(crate) const QR_OF: &str = "SELECT id, resident_id, created_at, revoked_at FROM qr_tokens WHERE resident_id = $1 ORDER BY id DESC";

/// Residents of the grids with where they live and what filters look at.
pub(crate) const CANDIDATE_RESIDENTS: &str = "SELECT r.id, r.name, r.grid_id, b.id, b.number, n.id, n.number, d.floor, d.number, \
     r.birth_date, r.residence_type, r.political_status, r.tags, r.phone_masked \
     FROM residents r JOIN households h ON h.id = r.household_id LEFT JOIN dwellings d ON d.id = h.dwelling_id \
     LEFT JOIN units n ON n.id = d.unit_id LEFT JOIN buildings b ON b.id = n.building_id \
     WHERE r.grid_id = ANY($1) ORDER BY r.id";
pub(crate) const CANDIDATE_BUSINESSES: &str = "SELECT s.id, s.name, s.grid_id, b.id, b.number, n.id, n.number, d.floor, d.number, \
     s.status, s.opening_date, s.app_status \
     FROM businesses s LEFT JOIN dwellings d ON d.id = s.dwelling_id \
     LEFT JOIN units n ON n.id = d.unit_id LEFT JOIN buildings b ON b.id = n.building_id \
     WHERE s.grid_id = ANY($1) ORDER BY s.id";

#[cfg(test)]
pub(crate) const STATEMENTS: &[&str] = &[
    CANDIDATE_RESIDENTS,
    CANDIDATE_BUSINESSES,
    INSERT_CAMPAIGN,
    INSERT_TARGET,
    CAMPAIGN,
    CAMPAIGNS,
    TARGETS,
    TARGET,
    TARGETS_OF_SUBJECT,
    PROGRESS,
    UPDATE_TARGET,
    SET_APP_REGISTRATION,
    INSERT_TARGET_EVENT,
    TARGET_EVENTS,
    INSERT_TEAM,
    DELETE_TEAM,
    TEAM,
    INSERT_QR,
    REVOKE_QR_OF,
    QR_BY_HASH,
    QR_OF,
];

fn placement(r: &Row) -> StoreResult<Placement> {
    Ok(Placement {
        grid_id: r.int(2)?,
        building_id: r.opt_int(3)?,
        building_number: r.opt_text(4)?,
        unit_id: r.opt_int(5)?,
        unit_number: r.opt_int(6)?,
        floor: r.opt_int(7)?,
        door: r.opt_text(8)?,
    })
}

/// Everyone (or every business) in the grids a campaign could target,
/// each with its label.
pub async fn candidates(
    db: &dyn FieldStore,
    kind: TargetKind,
    grid_ids: &[Id],
) -> StoreResult<Vec<(Candidate, String)>> {
    let grids = vec![Val::Ids(grid_ids.to_vec())];
    match kind {
        TargetKind::Resident => {
            query(db, CANDIDATE_RESIDENTS, grids, |r| {
                let tags: Vec<Tag> = r.json(12)?;
                Ok((
                    Candidate {
                        subject_id: r.int(0)?,
                        placement: placement(r)?,
                        facts: Facts::Resident {
                            birth_date: r.date(9)?,
                            residence_type: r.code(10, ResidenceType::parse)?,
                            political_status: r.code(11, PoliticalStatus::parse)?,
                            tags: tags.iter().map(Tag::kind).collect(),
                            has_phone: r.opt_text(13)?.is_some(),
                        },
                    },
                    r.text(1)?,
                ))
            })
            .await
        }
        TargetKind::Business => {
            query(db, CANDIDATE_BUSINESSES, grids, |r| {
                Ok((
                    Candidate {
                        subject_id: r.int(0)?,
                        placement: placement(r)?,
                        facts: Facts::Business {
                            status: r.code(9, BusinessStatus::parse)?,
                            opening_date: r.opt_date(10)?,
                            app_status: r.code(11, AppStatus::parse)?,
                        },
                    },
                    r.text(1)?,
                ))
            })
            .await
        }
    }
}

fn campaign(r: &Row) -> StoreResult<Campaign> {
    Ok(Campaign {
        id: r.int(0)?,
        name: r.text(1)?,
        template: r.code(2, Template::parse)?,
        goal: r.text(3)?,
        kind: r.code(4, TargetKind::parse)?,
        community_id: r.int(5)?,
        starts_on: r.date(6)?,
        ends_on: r.date(7)?,
        filter: r.json(8)?,
        created_by_name: r.text(9)?,
        created_at: r.time(10)?,
        targets: r.int(11)?,
        done: r.int(12)?,
    })
}

fn target(r: &Row) -> StoreResult<Target> {
    Ok(Target {
        id: r.int(0)?,
        campaign_id: r.int(1)?,
        subject_id: r.int(2)?,
        label: r.text(3)?,
        placement: Placement {
            grid_id: r.int(4)?,
            building_id: r.opt_int(5)?,
            building_number: r.opt_text(6)?,
            unit_id: r.opt_int(7)?,
            unit_number: r.opt_int(8)?,
            floor: r.opt_int(9)?,
            door: r.opt_text(10)?,
        },
        status: r.code(11, TargetStatus::parse)?,
        reason: r.opt_code(12, TargetReason::parse)?,
        note: r.text(13)?,
        updated_at: r.opt_time(14)?,
        updated_by_name: r.opt_text(15)?,
        version: r.int(16)?,
    })
}

/// Creates a campaign with its targets, atomically, audited.
pub async fn create(
    db: &dyn FieldStore,
    c: NewCampaign,
    targets: Vec<NewTarget>,
    audit: AuditEntry,
) -> StoreResult<Id> {
    let mut w = Write::new().insert(
        INSERT_CAMPAIGN,
        vec![
            Val::text(c.name),
            Val::text(c.template.as_str()),
            Val::text(c.goal),
            Val::text(c.kind.as_str()),
            Val::id(c.community_id),
            Val::text(c.starts_on.to_string()),
            Val::text(c.ends_on.to_string()),
            Val::json(&c.filter)?,
            Val::id(c.created_by),
            Val::time(c.created_at),
        ],
    );
    for t in targets {
        let p = t.placement;
        w = w.exec(
            INSERT_TARGET,
            vec![
                Val::FirstId,
                Val::id(t.subject_id),
                Val::id(p.grid_id),
                Val::Int(p.building_id),
                Val::Text(p.building_number),
                Val::Int(p.unit_id),
                Val::Int(p.unit_number),
                Val::Int(p.floor),
                Val::Text(p.door),
                Val::text(t.label),
            ],
        );
    }
    db.field_write(w.audit(audit)).await?.id()
}

pub async fn get(db: &dyn FieldStore, id: Id) -> StoreResult<Option<Campaign>> {
    query_one(db, CAMPAIGN, vec![Val::id(id)], campaign).await
}

/// Campaigns of the communities, and those `user` is on a team of.
pub async fn list(
    db: &dyn FieldStore,
    community_ids: &[Id],
    user: Id,
) -> StoreResult<Vec<Campaign>> {
    query(
        db,
        CAMPAIGNS,
        vec![Val::Ids(community_ids.to_vec()), Val::id(user)],
        campaign,
    )
    .await
}

/// Targets of a campaign in scope (of one building, in one status, when
/// given), in door-to-door order is the caller's.
pub async fn targets(
    db: &dyn FieldStore,
    campaign_id: Id,
    scope: &TargetScope,
    building_id: Option<Id>,
    status: Option<TargetStatus>,
    limit: i64,
) -> StoreResult<Vec<Target>> {
    let [grids, user] = scope.params();
    query(
        db,
        TARGETS,
        vec![
            Val::id(campaign_id),
            grids,
            user,
            Val::id(building_id.unwrap_or(0)),
            Val::text(status.map(|s| s.as_str()).unwrap_or("")),
            Val::Int(Some(limit)),
        ],
        target,
    )
    .await
}

/// One target, if in scope.
pub async fn target_by_id(
    db: &dyn FieldStore,
    id: Id,
    scope: &TargetScope,
) -> StoreResult<Option<Target>> {
    let [grids, user] = scope.params();
    query_one(db, TARGET, vec![Val::id(id), grids, user], target).await
}

/// Targets of a resident or business in campaigns running on `today`, in scope.
pub async fn targets_of_subject(
    db: &dyn FieldStore,
    subject_id: Id,
    kind: TargetKind,
    scope: &TargetScope,
    today: Date,
) -> StoreResult<Vec<Target>> {
    let [grids, user] = scope.params();
    query(
        db,
        TARGETS_OF_SUBJECT,
        vec![
            Val::id(subject_id),
            grids,
            user,
            Val::text(kind.as_str()),
            Val::text(today.to_string()),
        ],
        target,
    )
    .await
}

pub async fn progress(
    db: &dyn FieldStore,
    campaign_id: Id,
    scope: &TargetScope,
) -> StoreResult<Vec<ProgressRow>> {
    let [grids, user] = scope.params();
    query(db, PROGRESS, vec![Val::id(campaign_id), grids, user], |r| {
        Ok(ProgressRow {
            grid_id: r.int(0)?,
            building_id: r.opt_int(1)?,
            building_number: r.opt_text(2)?,
            unit_id: r.opt_int(3)?,
            unit_number: r.opt_int(4)?,
            status: r.code(5, TargetStatus::parse)?,
            count: r.int(6)?,
        })
    })
    .await
}

/// A target's new status, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetChange {
    pub status: TargetStatus,
    pub reason: Option<TargetReason>,
    pub note: String,
    pub by: Id,
    pub at: Timestamp,
    /// `form` or `qr`.
    pub via: &'static str,
    /// For a business target: its registration on the register, set in
    /// the same transaction (audited).
    pub app_registration: Option<(AppStatus, Option<AppReason>)>,
}

/// Changes a target still at `version`, with its event; `Conflict` when
/// someone changed it meanwhile.
pub async fn update_target(
    db: &dyn FieldStore,
    id: Id,
    subject: Id,
    version: i64,
    change: TargetChange,
    audit: Option<AuditEntry>,
) -> StoreResult<()> {
    let reason = Val::Text(change.reason.map(|r| r.as_str().to_owned()));
    let note_for_register = change.note.clone();
    let mut w = Write::new()
        .exec_one(
            UPDATE_TARGET,
            vec![
                Val::text(change.status.as_str()),
                reason.clone(),
                Val::text(change.note.clone()),
                Val::time(change.at),
                Val::id(change.by),
                Val::id(id),
                Val::Int(Some(version)),
            ],
            StoreError::Conflict(format!("target {id} changed meanwhile")),
        )
        .exec(
            INSERT_TARGET_EVENT,
            vec![
                Val::id(id),
                Val::time(change.at),
                Val::id(change.by),
                Val::text(change.status.as_str()),
                reason,
                Val::text(change.note),
                Val::text(change.via),
            ],
        );
    if let Some((status, reason)) = change.app_registration {
        w = w.exec_one(
            SET_APP_REGISTRATION,
            vec![
                Val::text(status.as_str()),
                Val::Text(reason.map(|r| r.as_str().to_owned())),
                Val::text(note_for_register),
                Val::time(change.at),
                Val::id(subject),
            ],
            StoreError::NotFound(format!("business {subject}")),
        );
    }
    w.audit = audit;
    db.field_write(w).await?;
    Ok(())
}

pub async fn target_events(db: &dyn FieldStore, id: Id) -> StoreResult<Vec<TargetEvent>> {
    query(db, TARGET_EVENTS, vec![Val::id(id)], |r| {
        Ok(TargetEvent {
            at: r.time(0)?,
            user_name: r.text(1)?,
            status: r.code(2, TargetStatus::parse)?,
            reason: r.opt_code(3, TargetReason::parse)?,
            note: r.text(4)?,
            via: r.text(5)?,
        })
    })
    .await
}

/// Assigns a team member to a building (or one unit of it), audited.
pub async fn assign(
    db: &dyn FieldStore,
    campaign_id: Id,
    user_id: Id,
    building_id: Id,
    unit_id: Option<Id>,
    audit: AuditEntry,
) -> StoreResult<()> {
    db.field_write(
        Write::new()
            .exec(
                INSERT_TEAM,
                vec![
                    Val::id(campaign_id),
                    Val::id(user_id),
                    Val::id(building_id),
                    Val::Int(unit_id),
                ],
            )
            .audit(audit),
    )
    .await?;
    Ok(())
}

pub async fn unassign(
    db: &dyn FieldStore,
    campaign_id: Id,
    member_id: Id,
    audit: AuditEntry,
) -> StoreResult<()> {
    db.field_write(
        Write::new()
            .exec_one(
                DELETE_TEAM,
                vec![Val::id(member_id), Val::id(campaign_id)],
                StoreError::NotFound(format!("team member {member_id}")),
            )
            .audit(audit),
    )
    .await?;
    Ok(())
}

pub async fn team(db: &dyn FieldStore, campaign_id: Id) -> StoreResult<Vec<TeamMember>> {
    query(db, TEAM, vec![Val::id(campaign_id)], |r| {
        Ok(TeamMember {
            id: r.int(0)?,
            user_id: r.int(1)?,
            user_name: r.text(2)?,
            role: r.text(3)?,
            building_id: r.int(4)?,
            building_number: r.text(5)?,
            unit_id: r.opt_int(6)?,
            unit_number: r.opt_int(7)?,
        })
    })
    .await
}

/// Issues check-in tokens (their hashes) to residents, revoking the ones
/// they held: a reprinted card replaces the old one. Audited.
pub async fn issue_tokens(
    db: &dyn FieldStore,
    tokens: Vec<(Vec<u8>, Id)>,
    by: Id,
    at: Timestamp,
    audit: AuditEntry,
) -> StoreResult<()> {
    let mut w = Write::new();
    for (hash, resident) in tokens {
        w = w
            .exec(REVOKE_QR_OF, vec![Val::time(at), Val::id(resident)])
            .exec(
                INSERT_QR,
                vec![
                    Val::Blob(Some(hash)),
                    Val::id(resident),
                    Val::id(by),
                    Val::time(at),
                ],
            );
    }
    db.field_write(w.audit(audit)).await?;
    Ok(())
}

/// Revokes every live token of a resident; how many, audited.
pub async fn revoke_tokens(
    db: &dyn FieldStore,
    resident_id: Id,
    at: Timestamp,
    audit: AuditEntry,
) -> StoreResult<u64> {
    Ok(db
        .field_write(
            Write::new()
                .exec(REVOKE_QR_OF, vec![Val::time(at), Val::id(resident_id)])
                .audit(audit),
        )
        .await?
        .rows)
}

fn qr(r: &Row) -> StoreResult<QrToken> {
    Ok(QrToken {
        id: r.int(0)?,
        resident_id: r.int(1)?,
        created_at: r.time(2)?,
        revoked_at: r.opt_time(3)?,
    })
}

pub async fn token_by_hash(db: &dyn FieldStore, hash: &[u8]) -> StoreResult<Option<QrToken>> {
    query_one(db, QR_BY_HASH, vec![Val::Blob(Some(hash.to_vec()))], qr).await
}

pub async fn tokens_of(db: &dyn FieldStore, resident_id: Id) -> StoreResult<Vec<QrToken>> {
    query(db, QR_OF, vec![Val::id(resident_id)], qr).await
}
