//! Opinions (社情民意) and notices (宣传) with who passed them on.

use jiff::Timestamp;
use serde::Serialize;
use wangge_core::org::Id;
use wangge_core::voice::{NoticeLevel, OpinionStatus, RelayMode, Topic};

use super::{FieldStore, Row, Val, Write, query, query_one};
use crate::audit::AuditEntry;
use crate::error::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Opinion {
    pub id: Id,
    pub grid_id: Id,
    pub topic: Topic,
    pub body: String,
    /// Who voiced it, as written down ("12栋居民" or a name); may be empty.
    pub voiced_by: String,
    pub submitted_by: Id,
    pub submitted_by_name: String,
    pub created_at: Timestamp,
    pub status: OpinionStatus,
    pub answer: Option<String>,
    pub answered_by_name: Option<String>,
    pub answered_at: Option<Timestamp>,
    pub case_id: Option<Id>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOpinion {
    pub grid_id: Id,
    pub topic: Topic,
    pub body: String,
    pub voiced_by: String,
    pub submitted_by: Id,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    pub id: Id,
    pub level: NoticeLevel,
    pub unit_id: Id,
    pub unit_name: String,
    pub title: String,
    pub body: String,
    pub published_by_name: String,
    pub published_at: Timestamp,
    pub relays: i64,
    pub reach: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotice {
    pub level: NoticeLevel,
    pub unit_id: Id,
    pub unit_name: String,
    pub title: String,
    pub body: String,
    pub published_by: Id,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Relay {
    pub id: Id,
    pub worker_id: Id,
    pub worker_name: String,
    pub grid_id: Id,
    pub at: Timestamp,
    pub mode: RelayMode,
    pub reach: i64,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRelay {
    pub notice_id: Id,
    pub worker_id: Id,
    pub grid_id: Id,
    pub at: Timestamp,
    pub mode: RelayMode,
    pub reach: i64,
    pub note: String,
}

pub(crate) const INSERT_OPINION: &str = "INSERT INTO opinions (grid_id, topic, body, voiced_by, submitted_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
macro_rules! opinion_select {
    ($where:literal) => {
        concat!(
            "SELECT o.id, o.grid_id, o.topic, o.body, o.voiced_by, o.submitted_by, s.display_name, o.created_at, \
             o.status, o.answer, a.display_name, o.answered_at, o.case_id FROM opinions o \
             JOIN users s ON s.id = o.submitted_by LEFT JOIN users a ON a.id = o.answered_by ",
            $where
        )
    };
}
pub(crate) const OPINION: &str = opinion_select!("WHERE o.id = $1");
pub(crate) const OPINIONS: &str = opinion_select!(
    "WHERE (o.grid_id = ANY($1) OR o.submitted_by = $2) AND ($3 = '' OR o.status = $3) AND ($4 = '' OR o.topic = $4) \
     ORDER BY o.created_at DESC, o.id DESC LIMIT $5"
);
pub(crate) const ANSWER_OPINION: &str = "UPDATE opinions SET status = 'answered', answer = $1, answered_by = $2, answered_at = $3 WHERE id = $4 AND status = 'open'";
pub(crate) const CONVERT_OPINION: &str = "UPDATE opinions SET status = 'converted', case_id = $1, answered_by = $2, answered_at = $3 WHERE id = $4 AND status = 'open'";
pub(crate) const OPINION_TOPICS: &str = "SELECT o.topic, COUNT(*) FROM opinions o WHERE o.grid_id = ANY($1) AND o.created_at >= $2 AND o.created_at < $3 GROUP BY o.topic ORDER BY COUNT(*) DESC, o.topic";
pub(crate) const INSERT_NOTICE: &str = "INSERT INTO notices (level, unit_id, unit_name, title, body, published_by, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
/// Notices reaching the grids ($1): addressed to them, their communities or their streets.
macro_rules! notice_select {
    ($where:literal) => {
        concat!(
            "SELECT n.id, n.level, n.unit_id, n.unit_name, n.title, n.body, u.display_name, n.published_at, \
             (SELECT COUNT(*) FROM notice_relays r WHERE r.notice_id = n.id), \
             (SELECT CAST(COALESCE(SUM(r.reach), 0) AS BIGINT) FROM notice_relays r WHERE r.notice_id = n.id) \
             FROM notices n JOIN users u ON u.id = n.published_by ",
            $where
        )
    };
}
/// One notice, if it reaches the grids ($2) or `$3` published it.
pub(crate) const NOTICE: &str = notice_select!(
    "WHERE n.id = $1 AND ((n.level = 'grid' AND n.unit_id = ANY($2)) \
     OR (n.level = 'community' AND n.unit_id IN (SELECT g.community_id FROM grids g WHERE g.id = ANY($2))) \
     OR (n.level = 'street' AND n.unit_id IN (SELECT c.street_id FROM grids g JOIN communities c ON c.id = g.community_id WHERE g.id = ANY($2))) \
     OR n.published_by = $3)"
);
pub(crate) const NOTICES: &str = notice_select!(
    "WHERE (n.level = 'grid' AND n.unit_id = ANY($1)) \
     OR (n.level = 'community' AND n.unit_id IN (SELECT g.community_id FROM grids g WHERE g.id = ANY($1))) \
     OR (n.level = 'street' AND n.unit_id IN (SELECT c.street_id FROM grids g JOIN communities c ON c.id = g.community_id WHERE g.id = ANY($1))) \
     OR n.published_by = $2 ORDER BY n.published_at DESC, n.id DESC LIMIT $3"
);
pub(crate) const INSERT_RELAY: &str = "INSERT INTO notice_relays (notice_id, worker_id, grid_id, at, mode, reach, note) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
pub(crate) const RELAYS: &str = "SELECT r.id, r.worker_id, u.display_name, r.grid_id, r.at, r.mode, r.reach, r.note FROM notice_relays r \
     JOIN users u ON u.id = r.worker_id WHERE r.notice_id = $1 ORDER BY r.at, r.id";

#[cfg(test)]
pub(crate) const STATEMENTS: &[&str] = &[
    INSERT_OPINION,
    OPINION,
    OPINIONS,
    ANSWER_OPINION,
    CONVERT_OPINION,
    OPINION_TOPICS,
    INSERT_NOTICE,
    NOTICE,
    NOTICES,
    INSERT_RELAY,
    RELAYS,
];

fn opinion(r: &Row) -> StoreResult<Opinion> {
    Ok(Opinion {
        id: r.int(0)?,
        grid_id: r.int(1)?,
        topic: r.code(2, Topic::parse)?,
        body: r.text(3)?,
        voiced_by: r.text(4)?,
        submitted_by: r.int(5)?,
        submitted_by_name: r.text(6)?,
        created_at: r.time(7)?,
        status: r.code(8, OpinionStatus::parse)?,
        answer: r.opt_text(9)?,
        answered_by_name: r.opt_text(10)?,
        answered_at: r.opt_time(11)?,
        case_id: r.opt_int(12)?,
    })
}

pub async fn add_opinion(db: &dyn FieldStore, o: NewOpinion) -> StoreResult<Id> {
    let doc = crate::search::text_doc(
        "opinion",
        o.grid_id,
        o.topic.label(wangge_core::Lang::Zh),
        &o.body,
    );
    db.field_write(
        Write::new()
            .insert(
                INSERT_OPINION,
                vec![
                    Val::id(o.grid_id),
                    Val::text(o.topic.as_str()),
                    Val::text(o.body),
                    Val::text(o.voiced_by),
                    Val::id(o.submitted_by),
                    Val::time(o.at),
                ],
            )
            .exec(
                crate::search::UPSERT,
                crate::search::upsert_params(&doc, Val::FirstId),
            ),
    )
    .await?
    .id()
}

pub async fn opinion_by_id(db: &dyn FieldStore, id: Id) -> StoreResult<Option<Opinion>> {
    query_one(db, OPINION, vec![Val::id(id)], opinion).await
}

/// Opinions of the grids, and those `submitter` wrote, newest first.
pub async fn opinions(
    db: &dyn FieldStore,
    grid_ids: &[Id],
    submitter: Id,
    status: Option<OpinionStatus>,
    topic: Option<Topic>,
    limit: i64,
) -> StoreResult<Vec<Opinion>> {
    query(
        db,
        OPINIONS,
        vec![
            Val::Ids(grid_ids.to_vec()),
            Val::id(submitter),
            Val::text(status.map(|s| s.as_str()).unwrap_or("")),
            Val::text(topic.map(|t| t.as_str()).unwrap_or("")),
            Val::Int(Some(limit)),
        ],
        opinion,
    )
    .await
}

/// Answers an open opinion; `Conflict` when it is no longer open.
pub async fn answer(
    db: &dyn FieldStore,
    id: Id,
    text: &str,
    by: Id,
    at: Timestamp,
    audit: AuditEntry,
) -> StoreResult<()> {
    db.field_write(
        Write::new()
            .exec_one(
                ANSWER_OPINION,
                vec![Val::text(text), Val::id(by), Val::time(at), Val::id(id)],
                StoreError::Conflict(format!("opinion {id} is no longer open")),
            )
            .audit(audit),
    )
    .await?;
    Ok(())
}

/// Marks an open opinion as turned into `case_id`.
pub async fn converted(
    db: &dyn FieldStore,
    id: Id,
    case_id: Id,
    by: Id,
    at: Timestamp,
    audit: AuditEntry,
) -> StoreResult<()> {
    db.field_write(
        Write::new()
            .exec_one(
                CONVERT_OPINION,
                vec![Val::id(case_id), Val::id(by), Val::time(at), Val::id(id)],
                StoreError::Conflict(format!("opinion {id} is no longer open")),
            )
            .audit(audit),
    )
    .await?;
    Ok(())
}

/// Opinions by topic in the grids over `[from, to)`, most frequent first.
pub async fn topics(
    db: &dyn FieldStore,
    grid_ids: &[Id],
    from: Timestamp,
    to: Timestamp,
) -> StoreResult<Vec<(Topic, i64)>> {
    query(
        db,
        OPINION_TOPICS,
        vec![Val::Ids(grid_ids.to_vec()), Val::time(from), Val::time(to)],
        |r| Ok((r.code(0, Topic::parse)?, r.int(1)?)),
    )
    .await
}

pub async fn publish(db: &dyn FieldStore, n: NewNotice, audit: AuditEntry) -> StoreResult<Id> {
    db.field_write(
        Write::new()
            .insert(
                INSERT_NOTICE,
                vec![
                    Val::text(n.level.as_str()),
                    Val::id(n.unit_id),
                    Val::text(n.unit_name),
                    Val::text(n.title),
                    Val::text(n.body),
                    Val::id(n.published_by),
                    Val::time(n.at),
                ],
            )
            .audit(audit),
    )
    .await?
    .id()
}

fn notice(r: &Row) -> StoreResult<Notice> {
    Ok(Notice {
        id: r.int(0)?,
        level: r.code(1, NoticeLevel::parse)?,
        unit_id: r.int(2)?,
        unit_name: r.text(3)?,
        title: r.text(4)?,
        body: r.text(5)?,
        published_by_name: r.text(6)?,
        published_at: r.time(7)?,
        relays: r.int(8)?,
        reach: r.int(9)?,
    })
}

/// A notice reaching the grids, or published by `publisher`.
pub async fn notice_in_scope(
    db: &dyn FieldStore,
    id: Id,
    grid_ids: &[Id],
    publisher: Id,
) -> StoreResult<Option<Notice>> {
    query_one(
        db,
        NOTICE,
        vec![Val::id(id), Val::Ids(grid_ids.to_vec()), Val::id(publisher)],
        notice,
    )
    .await
}

/// Notices reaching the grids, and those `publisher` published, newest first.
pub async fn notices(
    db: &dyn FieldStore,
    grid_ids: &[Id],
    publisher: Id,
    limit: i64,
) -> StoreResult<Vec<Notice>> {
    query(
        db,
        NOTICES,
        vec![
            Val::Ids(grid_ids.to_vec()),
            Val::id(publisher),
            Val::Int(Some(limit)),
        ],
        notice,
    )
    .await
}

pub async fn relay(db: &dyn FieldStore, r: NewRelay) -> StoreResult<Id> {
    db.field_write(Write::new().insert(
        INSERT_RELAY,
        vec![
            Val::id(r.notice_id),
            Val::id(r.worker_id),
            Val::id(r.grid_id),
            Val::time(r.at),
            Val::text(r.mode.as_str()),
            Val::Int(Some(r.reach)),
            Val::text(r.note),
        ],
    ))
    .await?
    .id()
}

pub async fn relays(db: &dyn FieldStore, notice_id: Id) -> StoreResult<Vec<Relay>> {
    query(db, RELAYS, vec![Val::id(notice_id)], |r| {
        Ok(Relay {
            id: r.int(0)?,
            worker_id: r.int(1)?,
            worker_name: r.text(2)?,
            grid_id: r.int(3)?,
            at: r.time(4)?,
            mode: r.code(5, RelayMode::parse)?,
            reach: r.int(6)?,
            note: r.text(7)?,
        })
    })
    .await
}
