//! Care visits, visit rules, major changes and referrals.

use jiff::Timestamp;
use serde::Serialize;
use wangge_core::org::Id;
use wangge_core::register::{Tag, TagKind};
use wangge_core::visit::{
    CareFacts, Frequency, MajorChange, MajorChangeFact, Member, Need, NeedKind, Programme,
    ReferralStatus, VisitMode, VisitRule,
};

use super::{FieldStore, Row, Val, Write, query, query_one};
use crate::audit::AuditEntry;
use crate::error::{StoreError, StoreResult};

/// A household on a care roster, with what the scheduler needs.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterHousehold {
    pub household_id: Id,
    pub grid_id: Id,
    pub address: String,
    pub facts: CareFacts,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Visit {
    pub id: Id,
    pub household_id: Id,
    pub address: String,
    pub grid_id: Id,
    pub worker_id: Id,
    pub worker_name: String,
    pub resident_id: Option<Id>,
    pub resident_name: Option<String>,
    pub visited_at: Timestamp,
    pub mode: VisitMode,
    pub visitors: String,
    pub situation: String,
    pub needs: Vec<Need>,
    pub due_at: Option<Timestamp>,
    pub on_time: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisit {
    pub household_id: Id,
    pub grid_id: Id,
    pub worker_id: Id,
    pub resident_id: Option<Id>,
    pub visited_at: Timestamp,
    pub mode: VisitMode,
    pub visitors: String,
    pub situation: String,
    pub needs: Vec<Need>,
    pub due_at: Option<Timestamp>,
    pub on_time: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReferral {
    pub household_id: Id,
    pub resident_id: Option<Id>,
    pub grid_id: Id,
    pub need_kind: NeedKind,
    pub programme: Programme,
    pub detail: String,
    pub created_by: Id,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Referral {
    pub id: Id,
    pub visit_id: Option<Id>,
    pub household_id: Id,
    pub address: String,
    pub resident_id: Option<Id>,
    pub resident_name: Option<String>,
    pub grid_id: Id,
    pub need_kind: NeedKind,
    pub programme: Programme,
    pub detail: String,
    pub status: ReferralStatus,
    pub case_id: Option<Id>,
    pub created_by_name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReferralEvent {
    pub at: Timestamp,
    pub user_name: String,
    pub status: ReferralStatus,
    pub note: String,
}

/// Visits by one worker in one grid over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisitStat {
    pub worker_id: Id,
    pub worker_name: String,
    pub grid_id: Id,
    pub visits: i64,
    pub on_time: i64,
    pub households: i64,
}

pub(crate) const RULES: &str =
    "SELECT id, name, tag, min_age, frequency FROM visit_rules ORDER BY position, id";
pub(crate) const DELETE_RULES: &str = "DELETE FROM visit_rules";
pub(crate) const INSERT_RULE: &str =
    "INSERT INTO visit_rules (position, name, tag, min_age, frequency) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const ROSTER_MEMBERS: &str = "SELECT h.id, h.grid_id, h.address, h.created_at, r.id, r.name, r.birth_date, r.tags \
     FROM households h LEFT JOIN residents r ON r.household_id = h.id \
     WHERE h.grid_id = ANY($1) AND ($2 = 0 OR h.id = $2) ORDER BY h.id, r.id";
pub(crate) const LAST_VISITS: &str = "SELECT v.household_id, MAX(v.visited_at) FROM visits v \
     JOIN households h ON h.id = v.household_id WHERE h.grid_id = ANY($1) AND ($2 = 0 OR h.id = $2) \
     GROUP BY v.household_id";
pub(crate) const MAJOR_CHANGES: &str = "SELECT m.household_id, m.at, m.kind, m.resident_id FROM major_changes m \
     JOIN households h ON h.id = m.household_id WHERE h.grid_id = ANY($1) AND ($2 = 0 OR h.id = $2) \
     ORDER BY m.household_id, m.at DESC";
pub(crate) const INSERT_MAJOR_CHANGE: &str = "INSERT INTO major_changes (resident_id, household_id, kind, note, at, recorded_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
pub(crate) const INSERT_VISIT: &str = "INSERT INTO visits (household_id, grid_id, worker_id, resident_id, visited_at, mode, visitors, situation, needs, due_at, on_time, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id";
macro_rules! visit_select {
    ($where:literal) => {
        concat!(
            "SELECT v.id, v.household_id, h.address, v.grid_id, v.worker_id, u.display_name, v.resident_id, r.name, \
             v.visited_at, v.mode, v.visitors, v.situation, v.needs, v.due_at, v.on_time \
             FROM visits v JOIN households h ON h.id = v.household_id JOIN users u ON u.id = v.worker_id \
             LEFT JOIN residents r ON r.id = v.resident_id ",
            $where
        )
    };
}
pub(crate) const VISITS: &str = visit_select!(
    "WHERE h.grid_id = ANY($1) AND ($2 = 0 OR v.household_id = $2) AND v.visited_at >= $3 AND v.visited_at < $4 \
     ORDER BY v.visited_at DESC, v.id DESC LIMIT $5"
);
pub(crate) const VISIT: &str = visit_select!("WHERE v.id = $1");
pub(crate) const VISIT_STATS: &str = "SELECT v.worker_id, u.display_name, v.grid_id, COUNT(*), \
     COALESCE(SUM(CASE WHEN v.on_time THEN 1 ELSE 0 END), 0), COUNT(DISTINCT v.household_id) \
     FROM visits v JOIN users u ON u.id = v.worker_id \
     WHERE v.grid_id = ANY($1) AND v.visited_at >= $2 AND v.visited_at < $3 \
     GROUP BY v.worker_id, u.display_name, v.grid_id ORDER BY v.grid_id, u.display_name";
pub(crate) const INSERT_REFERRAL: &str = "INSERT INTO referrals (visit_id, household_id, resident_id, grid_id, need_kind, programme, detail, status, created_by, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'recommended', $8, $9, $9) RETURNING id";
macro_rules! referral_select {
    ($where:literal) => {
        concat!(
            "SELECT f.id, f.visit_id, f.household_id, h.address, f.resident_id, r.name, f.grid_id, f.need_kind, \
             f.programme, f.detail, f.status, f.case_id, u.display_name, f.created_at, f.updated_at, f.version \
             FROM referrals f JOIN households h ON h.id = f.household_id JOIN users u ON u.id = f.created_by \
             LEFT JOIN residents r ON r.id = f.resident_id ",
            $where
        )
    };
}
pub(crate) const REFERRAL: &str = referral_select!("WHERE f.id = $1");
pub(crate) const REFERRALS: &str = referral_select!(
    "WHERE h.grid_id = ANY($1) AND ($2 = '' OR f.status = $2) AND ($3 = 0 OR f.household_id = $3) \
     ORDER BY f.updated_at DESC, f.id DESC LIMIT $4"
);
pub(crate) const MOVE_REFERRAL: &str = "UPDATE referrals SET status = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4";
pub(crate) const SET_REFERRAL_CASE: &str = "UPDATE referrals SET case_id = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4";
pub(crate) const INSERT_REFERRAL_EVENT: &str = "INSERT INTO referral_events (referral_id, at, user_id, status, note) VALUES ($1, $2, $3, $4, $5)";
pub(crate) const REFERRAL_EVENTS: &str = "SELECT e.at, u.display_name, e.status, e.note FROM referral_events e \
     JOIN users u ON u.id = e.user_id WHERE e.referral_id = $1 ORDER BY e.at, e.id";

#[cfg(test)]
pub(crate) const STATEMENTS: &[&str] = &[
    RULES,
    DELETE_RULES,
    INSERT_RULE,
    ROSTER_MEMBERS,
    LAST_VISITS,
    MAJOR_CHANGES,
    INSERT_MAJOR_CHANGE,
    INSERT_VISIT,
    VISITS,
    VISIT,
    VISIT_STATS,
    INSERT_REFERRAL,
    REFERRAL,
    REFERRALS,
    MOVE_REFERRAL,
    SET_REFERRAL_CASE,
    INSERT_REFERRAL_EVENT,
    REFERRAL_EVENTS,
];

/// The stored rules, in order; empty until an administrator saves some.
pub async fn rules(db: &dyn FieldStore) -> StoreResult<Vec<VisitRule>> {
    query(db, RULES, vec![], |r| {
        Ok(VisitRule {
            id: r.int(0)?,
            name: r.text(1)?,
            tag: r.opt_code(2, TagKind::parse)?,
            min_age: r.opt_int(3)?.map(|a| a as i16),
            frequency: r.code(4, Frequency::parse)?,
        })
    })
    .await
}

/// Replaces the rules, audited.
pub async fn replace_rules(
    db: &dyn FieldStore,
    rules: &[VisitRule],
    audit: AuditEntry,
) -> StoreResult<()> {
    let mut w = Write::new().exec(DELETE_RULES, vec![]);
    for (i, r) in rules.iter().enumerate() {
        w = w.exec(
            INSERT_RULE,
            vec![
                Val::Int(Some(i as i64)),
                Val::text(r.name.trim()),
                Val::Text(r.tag.map(|t| t.as_str().to_owned())),
                Val::Int(r.min_age.map(i64::from)),
                Val::text(r.frequency.as_str()),
            ],
        );
    }
    db.field_write(w.audit(audit)).await?;
    Ok(())
}

/// The households of the grids (or one of them) with their members, last
/// visit and latest major change.
pub async fn roster(
    db: &dyn FieldStore,
    grid_ids: &[Id],
    household_id: Option<Id>,
) -> StoreResult<Vec<RosterHousehold>> {
    let params = || {
        vec![
            Val::Ids(grid_ids.to_vec()),
            Val::id(household_id.unwrap_or(0)),
        ]
    };
    let rows = db
        .field_query(super::Stmt::new(ROSTER_MEMBERS, params()))
        .await?;
    let mut out: Vec<RosterHousehold> = Vec::new();
    for r in &rows {
        let id = r.int(0)?;
        if out.last().is_none_or(|h| h.household_id != id) {
            out.push(RosterHousehold {
                household_id: id,
                grid_id: r.int(1)?,
                address: r.text(2)?,
                facts: CareFacts {
                    members: Vec::new(),
                    listed_at: r.time(3)?,
                    last_visit: None,
                    major_change: None,
                },
            });
        }
        if let Some(resident_id) = r.opt_int(4)?
            && let Some(h) = out.last_mut()
        {
            let tags: Vec<Tag> = r.json(7)?;
            h.facts.members.push(Member {
                resident_id,
                name: r.text(5)?,
                birth_date: r.date(6)?,
                tags: tags.iter().map(Tag::kind).collect(),
            });
        }
    }
    let index =
        |out: &[RosterHousehold], id: Id| out.binary_search_by_key(&id, |h| h.household_id).ok();
    for r in db
        .field_query(super::Stmt::new(LAST_VISITS, params()))
        .await?
    {
        if let Some(i) = index(&out, r.int(0)?) {
            out[i].facts.last_visit = r.opt_time(1)?;
        }
    }
    for r in db
        .field_query(super::Stmt::new(MAJOR_CHANGES, params()))
        .await?
    {
        if let Some(i) = index(&out, r.int(0)?)
            && out[i].facts.major_change.is_none()
        {
            out[i].facts.major_change = Some(MajorChangeFact {
                at: r.time(1)?,
                kind: r.code(2, MajorChange::parse)?,
                resident_id: r.int(3)?,
            });
        }
    }
    Ok(out)
}

/// Records a major change in a resident's life, audited.
#[allow(clippy::too_many_arguments)]
pub async fn record_major_change(
    db: &dyn FieldStore,
    resident_id: Id,
    household_id: Id,
    kind: MajorChange,
    note: &str,
    at: Timestamp,
    by: Id,
    audit: AuditEntry,
) -> StoreResult<Id> {
    db.field_write(
        Write::new()
            .insert(
                INSERT_MAJOR_CHANGE,
                vec![
                    Val::id(resident_id),
                    Val::id(household_id),
                    Val::text(kind.as_str()),
                    Val::text(note),
                    Val::time(at),
                    Val::id(by),
                ],
            )
            .audit(audit),
    )
    .await?
    .id()
}

/// Records a visit and the referrals its needs became, atomically, audited.
pub async fn record(
    db: &dyn FieldStore,
    v: NewVisit,
    referrals: Vec<NewReferral>,
    audit: AuditEntry,
) -> StoreResult<Id> {
    let mut w = Write::new().insert(
        INSERT_VISIT,
        vec![
            Val::id(v.household_id),
            Val::id(v.grid_id),
            Val::id(v.worker_id),
            Val::Int(v.resident_id),
            Val::time(v.visited_at),
            Val::text(v.mode.as_str()),
            Val::text(v.visitors),
            Val::text(v.situation.clone()),
            Val::json(&v.needs)?,
            Val::opt_time(v.due_at),
            Val::Bool(v.on_time),
            Val::time(v.created_at),
        ],
    );
    for f in referrals {
        w = w.exec(INSERT_REFERRAL, referral_params(Val::FirstId, f));
    }
    let doc = crate::search::text_doc(
        "visit",
        v.grid_id,
        &format!(
            "{} {}",
            v.mode.label(wangge_core::Lang::Zh),
            wangge_core::calendar::CHINA
                .to_datetime(v.visited_at)
                .date()
        ),
        &format!(
            "{} {}",
            v.situation,
            v.needs
                .iter()
                .map(|n| n.detail.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        ),
    );
    w = w.exec(
        crate::search::UPSERT,
        crate::search::upsert_params(&doc, Val::FirstId),
    );
    db.field_write(w.audit(audit)).await?.id()
}

fn referral_params(visit: Val, f: NewReferral) -> Vec<Val> {
    vec![
        visit,
        Val::id(f.household_id),
        Val::Int(f.resident_id),
        Val::id(f.grid_id),
        Val::text(f.need_kind.as_str()),
        Val::text(f.programme.as_str()),
        Val::text(f.detail),
        Val::id(f.created_by),
        Val::time(f.at),
    ]
}

/// A referral made outside a visit, audited.
pub async fn refer(db: &dyn FieldStore, f: NewReferral, audit: AuditEntry) -> StoreResult<Id> {
    db.field_write(
        Write::new()
            .insert(INSERT_REFERRAL, referral_params(Val::Int(None), f))
            .audit(audit),
    )
    .await?
    .id()
}

fn visit(r: &Row) -> StoreResult<Visit> {
    Ok(Visit {
        id: r.int(0)?,
        household_id: r.int(1)?,
        address: r.text(2)?,
        grid_id: r.int(3)?,
        worker_id: r.int(4)?,
        worker_name: r.text(5)?,
        resident_id: r.opt_int(6)?,
        resident_name: r.opt_text(7)?,
        visited_at: r.time(8)?,
        mode: r.code(9, VisitMode::parse)?,
        visitors: r.text(10)?,
        situation: r.text(11)?,
        needs: r.json(12)?,
        due_at: r.opt_time(13)?,
        on_time: r.boolean(14)?,
    })
}

/// Visits to households now in the grids, newest first.
pub async fn list(
    db: &dyn FieldStore,
    grid_ids: &[Id],
    household_id: Option<Id>,
    from: Timestamp,
    to: Timestamp,
    limit: i64,
) -> StoreResult<Vec<Visit>> {
    query(
        db,
        VISITS,
        vec![
            Val::Ids(grid_ids.to_vec()),
            Val::id(household_id.unwrap_or(0)),
            Val::time(from),
            Val::time(to),
            Val::Int(Some(limit)),
        ],
        visit,
    )
    .await
}

pub async fn get(db: &dyn FieldStore, id: Id) -> StoreResult<Option<Visit>> {
    query_one(db, VISIT, vec![Val::id(id)], visit).await
}

pub async fn stats(
    db: &dyn FieldStore,
    grid_ids: &[Id],
    from: Timestamp,
    to: Timestamp,
) -> StoreResult<Vec<VisitStat>> {
    query(
        db,
        VISIT_STATS,
        vec![Val::Ids(grid_ids.to_vec()), Val::time(from), Val::time(to)],
        |r| {
            Ok(VisitStat {
                worker_id: r.int(0)?,
                worker_name: r.text(1)?,
                grid_id: r.int(2)?,
                visits: r.int(3)?,
                on_time: r.int(4)?,
                households: r.int(5)?,
            })
        },
    )
    .await
}

fn referral(r: &Row) -> StoreResult<Referral> {
    Ok(Referral {
        id: r.int(0)?,
        visit_id: r.opt_int(1)?,
        household_id: r.int(2)?,
        address: r.text(3)?,
        resident_id: r.opt_int(4)?,
        resident_name: r.opt_text(5)?,
        grid_id: r.int(6)?,
        need_kind: r.code(7, NeedKind::parse)?,
        programme: r.code(8, Programme::parse)?,
        detail: r.text(9)?,
        status: r.code(10, ReferralStatus::parse)?,
        case_id: r.opt_int(11)?,
        created_by_name: r.text(12)?,
        created_at: r.time(13)?,
        updated_at: r.time(14)?,
        version: r.int(15)?,
    })
}

pub async fn referral_by_id(db: &dyn FieldStore, id: Id) -> StoreResult<Option<Referral>> {
    query_one(db, REFERRAL, vec![Val::id(id)], referral).await
}

/// Referrals of households now in the grids, most recently changed first.
pub async fn referrals(
    db: &dyn FieldStore,
    grid_ids: &[Id],
    status: Option<ReferralStatus>,
    household_id: Option<Id>,
    limit: i64,
) -> StoreResult<Vec<Referral>> {
    query(
        db,
        REFERRALS,
        vec![
            Val::Ids(grid_ids.to_vec()),
            Val::text(status.map(|s| s.as_str()).unwrap_or("")),
            Val::id(household_id.unwrap_or(0)),
            Val::Int(Some(limit)),
        ],
        referral,
    )
    .await
}

/// Moves a referral still at `version`, with its event, audited.
#[allow(clippy::too_many_arguments)]
pub async fn move_referral(
    db: &dyn FieldStore,
    id: Id,
    version: i64,
    to: ReferralStatus,
    note: &str,
    by: Id,
    at: Timestamp,
    audit: AuditEntry,
) -> StoreResult<()> {
    db.field_write(
        Write::new()
            .exec_one(
                MOVE_REFERRAL,
                vec![
                    Val::text(to.as_str()),
                    Val::time(at),
                    Val::id(id),
                    Val::Int(Some(version)),
                ],
                StoreError::Conflict(format!("referral {id} changed meanwhile")),
            )
            .exec(
                INSERT_REFERRAL_EVENT,
                vec![
                    Val::id(id),
                    Val::time(at),
                    Val::id(by),
                    Val::text(to.as_str()),
                    Val::text(note),
                ],
            )
            .audit(audit),
    )
    .await?;
    Ok(())
}

/// Notes the case a referral's need became.
pub async fn set_referral_case(
    db: &dyn FieldStore,
    id: Id,
    version: i64,
    case_id: Id,
    at: Timestamp,
) -> StoreResult<()> {
    db.field_write(Write::new().exec_one(
        SET_REFERRAL_CASE,
        vec![
            Val::id(case_id),
            Val::time(at),
            Val::id(id),
            Val::Int(Some(version)),
        ],
        StoreError::Conflict(format!("referral {id} changed meanwhile")),
    ))
    .await?;
    Ok(())
}

pub async fn referral_events(db: &dyn FieldStore, id: Id) -> StoreResult<Vec<ReferralEvent>> {
    query(db, REFERRAL_EVENTS, vec![Val::id(id)], |r| {
        Ok(ReferralEvent {
            at: r.time(0)?,
            user_name: r.text(1)?,
            status: r.code(2, ReferralStatus::parse)?,
            note: r.text(3)?,
        })
    })
    .await
}
