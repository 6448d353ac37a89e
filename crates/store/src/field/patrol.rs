//! Patrols, their tracks and check-ins, and business safety checks.

use jiff::Timestamp;
use serde::Serialize;
use wangge_core::GeoPoint;
use wangge_core::org::Id;
use wangge_core::patrol::{ItemAnswer, TrackPoint};

use super::{FieldStore, Row, Val, Write, query, query_one};
use crate::audit::AuditEntry;
use crate::error::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Patrol {
    pub id: Id,
    pub worker_id: Id,
    pub worker_name: String,
    pub grid_id: Id,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub distance_m: f64,
    pub note: String,
    pub points: i64,
    pub checkins: i64,
    pub cases: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checkin {
    pub id: Id,
    pub patrol_id: Option<Id>,
    pub worker_id: Id,
    pub grid_id: Id,
    pub at: Timestamp,
    pub building_id: Option<Id>,
    pub household_id: Option<Id>,
    pub business_id: Option<Id>,
    /// The building's name, the household's address or the business's name.
    pub place: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCheckin {
    pub patrol_id: Option<Id>,
    pub worker_id: Id,
    pub grid_id: Id,
    pub at: Timestamp,
    pub building_id: Option<Id>,
    pub household_id: Option<Id>,
    pub business_id: Option<Id>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inspection {
    pub id: Id,
    pub business_id: Id,
    pub business_name: String,
    pub grid_id: Id,
    pub inspector_id: Id,
    pub inspector_name: String,
    pub patrol_id: Option<Id>,
    pub at: Timestamp,
    pub answers: Vec<ItemAnswer>,
    pub failed: i64,
    /// Cases reported for the failed items.
    pub case_ids: Vec<Id>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInspection {
    pub business_id: Id,
    pub grid_id: Id,
    pub inspector_id: Id,
    pub patrol_id: Option<Id>,
    pub at: Timestamp,
    pub answers: Vec<ItemAnswer>,
    pub failed: i64,
}

/// A worker's patrolling in one grid over a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatrolStat {
    pub worker_id: Id,
    pub worker_name: String,
    pub grid_id: Id,
    pub patrols: i64,
    pub days: i64,
    pub minutes: i64,
    pub distance_m: f64,
}

/// Households and businesses of a grid visited (checked in, visited at
/// home, or inspected) in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Coverage {
    pub grid_id: Id,
    pub households: i64,
    pub households_visited: i64,
    pub businesses: i64,
    pub businesses_visited: i64,
}

macro_rules! patrol_select {
    ($where:literal) => {
        concat!(
            "SELECT p.id, p.worker_id, u.display_name, p.grid_id, p.started_at, p.ended_at, \
             p.distance_m, p.note, \
             (SELECT COUNT(*) FROM patrol_points x WHERE x.patrol_id = p.id), \
             (SELECT COUNT(*) FROM checkins x WHERE x.patrol_id = p.id), \
             (SELECT COUNT(*) FROM patrol_cases x WHERE x.patrol_id = p.id) \
             FROM patrols p JOIN users u ON u.id = p.worker_id ",
            $where
        )
    };
}

pub(crate) const INSERT_PATROL: &str = "INSERT INTO patrols (worker_id, grid_id, started_at, note) VALUES ($1, $2, $3, $4) RETURNING id";
pub(crate) const INSERT_POINT: &str = "INSERT INTO patrol_points (patrol_id, seq, at, lon, lat, accuracy_m) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";
pub(crate) const POINTS: &str =
    "SELECT seq, at, lon, lat, accuracy_m FROM patrol_points WHERE patrol_id = $1 ORDER BY seq";
pub(crate) const END_PATROL: &str =
    "UPDATE patrols SET ended_at = $1, distance_m = $2 WHERE id = $3 AND ended_at IS NULL";
pub(crate) const SET_DISTANCE: &str = "UPDATE patrols SET distance_m = $1 WHERE id = $2";
pub(crate) const PATROL: &str = patrol_select!("WHERE p.id = $1");
pub(crate) const PATROLS: &str = patrol_select!(
    "WHERE p.grid_id = ANY($1) AND ($2 = 0 OR p.worker_id = $2) AND p.started_at >= $3 AND p.started_at < $4 ORDER BY p.started_at DESC LIMIT $5"
);
pub(crate) const OPEN_PATROL: &str = patrol_select!(
    "WHERE p.worker_id = $1 AND p.ended_at IS NULL ORDER BY p.started_at DESC LIMIT 1"
);
pub(crate) const LINK_CASE: &str =
    "INSERT INTO patrol_cases (patrol_id, case_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
pub(crate) const PATROL_CASES: &str =
    "SELECT case_id FROM patrol_cases WHERE patrol_id = $1 ORDER BY case_id";
pub(crate) const INSERT_CHECKIN: &str = "INSERT INTO checkins (patrol_id, worker_id, grid_id, at, building_id, household_id, business_id, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id";
pub(crate) const CHECKINS: &str = "SELECT c.id, c.patrol_id, c.worker_id, c.grid_id, c.at, c.building_id, c.household_id, c.business_id, \
     COALESCE(b.name, h.address, s.name, ''), c.note \
     FROM checkins c LEFT JOIN buildings b ON b.id = c.building_id \
     LEFT JOIN households h ON h.id = c.household_id LEFT JOIN businesses s ON s.id = c.business_id \
     WHERE c.patrol_id = $1 ORDER BY c.at";
pub(crate) const INSERT_INSPECTION: &str = "INSERT INTO inspections (business_id, grid_id, inspector_id, patrol_id, at, answers, failed) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
pub(crate) const SET_INSPECTION_CASES: &str = "UPDATE inspections SET case_ids = $1 WHERE id = $2";
macro_rules! inspection_select {
    ($where:literal) => {
        concat!(
            "SELECT i.id, i.business_id, s.name, i.grid_id, i.inspector_id, u.display_name, i.patrol_id, \
             i.at, i.answers, i.failed, i.case_ids FROM inspections i \
             JOIN businesses s ON s.id = i.business_id JOIN users u ON u.id = i.inspector_id ",
            $where
        )
    };
}
pub(crate) const INSPECTIONS_OF_BUSINESS: &str =
    inspection_select!("WHERE i.business_id = $1 ORDER BY i.at DESC");
pub(crate) const INSPECTION: &str = inspection_select!("WHERE i.id = $1");
pub(crate) const PATROL_STATS: &str = "SELECT p.worker_id, u.display_name, p.grid_id, COUNT(*), \
     COUNT(DISTINCT (p.started_at + 28800000000) / 86400000000), \
     CAST(COALESCE(SUM(p.ended_at - p.started_at), 0) AS BIGINT) / 60000000, \
     COALESCE(SUM(p.distance_m), 0.0) \
     FROM patrols p JOIN users u ON u.id = p.worker_id \
     WHERE p.grid_id = ANY($1) AND p.started_at >= $2 AND p.started_at < $3 AND p.ended_at IS NOT NULL \
     GROUP BY p.worker_id, u.display_name, p.grid_id ORDER BY p.grid_id, u.display_name";
pub(crate) const COVERAGE: &str = "SELECT g.id, \
     (SELECT COUNT(*) FROM households h WHERE h.grid_id = g.id), \
     (SELECT COUNT(*) FROM households h WHERE h.grid_id = g.id AND (\
        EXISTS (SELECT 1 FROM checkins c WHERE c.household_id = h.id AND c.at >= $1 AND c.at < $2) \
        OR EXISTS (SELECT 1 FROM visits v WHERE v.household_id = h.id AND v.mode = 'home' AND v.visited_at >= $1 AND v.visited_at < $2))), \
     (SELECT COUNT(*) FROM businesses s WHERE s.grid_id = g.id AND s.status = 'open'), \
     (SELECT COUNT(*) FROM businesses s WHERE s.grid_id = g.id AND s.status = 'open' AND (\
        EXISTS (SELECT 1 FROM checkins c WHERE c.business_id = s.id AND c.at >= $1 AND c.at < $2) \
        OR EXISTS (SELECT 1 FROM inspections i WHERE i.business_id = s.id AND i.at >= $1 AND i.at < $2))) \
     FROM grids g WHERE g.id = ANY($3) ORDER BY g.id";

pub(crate) const DWELLING_POSITION: &str = "SELECT b.lon, b.lat FROM dwellings d JOIN units n ON n.id = d.unit_id \
     JOIN buildings b ON b.id = n.building_id WHERE d.id = $1";

#[cfg(test)]
pub(crate) const STATEMENTS: &[&str] = &[
    DWELLING_POSITION,
    INSERT_PATROL,
    INSERT_POINT,
    POINTS,
    END_PATROL,
    SET_DISTANCE,
    PATROL,
    PATROLS,
    OPEN_PATROL,
    LINK_CASE,
    PATROL_CASES,
    INSERT_CHECKIN,
    CHECKINS,
    INSERT_INSPECTION,
    SET_INSPECTION_CASES,
    INSPECTIONS_OF_BUSINESS,
    INSPECTION,
    PATROL_STATS,
    COVERAGE,
];

fn patrol(r: &Row) -> StoreResult<Patrol> {
    Ok(Patrol {
        id: r.int(0)?,
        worker_id: r.int(1)?,
        worker_name: r.text(2)?,
        grid_id: r.int(3)?,
        started_at: r.time(4)?,
        ended_at: r.opt_time(5)?,
        distance_m: r.real(6)?,
        note: r.text(7)?,
        points: r.int(8)?,
        checkins: r.int(9)?,
        cases: r.int(10)?,
    })
}

fn inspection(r: &Row) -> StoreResult<Inspection> {
    Ok(Inspection {
        id: r.int(0)?,
        business_id: r.int(1)?,
        business_name: r.text(2)?,
        grid_id: r.int(3)?,
        inspector_id: r.int(4)?,
        inspector_name: r.text(5)?,
        patrol_id: r.opt_int(6)?,
        at: r.time(7)?,
        answers: r.json(8)?,
        failed: r.int(9)?,
        case_ids: r.json(10)?,
    })
}

pub async fn start(
    db: &dyn FieldStore,
    worker_id: Id,
    grid_id: Id,
    at: Timestamp,
    note: &str,
) -> StoreResult<Id> {
    db.field_write(Write::new().insert(
        INSERT_PATROL,
        vec![
            Val::id(worker_id),
            Val::id(grid_id),
            Val::time(at),
            Val::text(note),
        ],
    ))
    .await?
    .id()
}

/// Stores fixes not stored yet; returns how many were new.
pub async fn add_points(
    db: &dyn FieldStore,
    patrol_id: Id,
    points: &[TrackPoint],
) -> StoreResult<u64> {
    if points.is_empty() {
        return Ok(0);
    }
    let mut w = Write::new();
    for p in points {
        w = w.exec(
            INSERT_POINT,
            vec![
                Val::id(patrol_id),
                Val::Int(Some(p.seq)),
                Val::time(p.at),
                Val::Real(Some(p.point.lon)),
                Val::Real(Some(p.point.lat)),
                Val::Real(p.accuracy_m),
            ],
        );
    }
    Ok(db.field_write(w).await?.rows)
}

pub async fn points(db: &dyn FieldStore, patrol_id: Id) -> StoreResult<Vec<TrackPoint>> {
    query(db, POINTS, vec![Val::id(patrol_id)], |r| {
        Ok(TrackPoint {
            seq: r.int(0)?,
            at: r.time(1)?,
            point: GeoPoint::new(r.real(2)?, r.real(3)?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            accuracy_m: r.opt_real(4)?,
        })
    })
    .await
}

/// Ends a patrol still going; `Conflict` when it has ended.
pub async fn end(
    db: &dyn FieldStore,
    patrol_id: Id,
    at: Timestamp,
    distance_m: f64,
) -> StoreResult<()> {
    db.field_write(Write::new().exec_one(
        END_PATROL,
        vec![
            Val::time(at),
            Val::Real(Some(distance_m)),
            Val::id(patrol_id),
        ],
        StoreError::Conflict(format!("patrol {patrol_id} has ended")),
    ))
    .await?;
    Ok(())
}

pub async fn set_distance(db: &dyn FieldStore, patrol_id: Id, distance_m: f64) -> StoreResult<()> {
    db.field_write(Write::new().exec(
        SET_DISTANCE,
        vec![Val::Real(Some(distance_m)), Val::id(patrol_id)],
    ))
    .await?;
    Ok(())
}

pub async fn get(db: &dyn FieldStore, id: Id) -> StoreResult<Option<Patrol>> {
    query_one(db, PATROL, vec![Val::id(id)], patrol).await
}

/// The worker's patrol still going, if any.
pub async fn open_of(db: &dyn FieldStore, worker_id: Id) -> StoreResult<Option<Patrol>> {
    query_one(db, OPEN_PATROL, vec![Val::id(worker_id)], patrol).await
}

/// Patrols in the grids (of one worker, when given) started in `[from, to)`, newest first.
pub async fn list(
    db: &dyn FieldStore,
    grid_ids: &[Id],
    worker_id: Option<Id>,
    from: Timestamp,
    to: Timestamp,
    limit: i64,
) -> StoreResult<Vec<Patrol>> {
    query(
        db,
        PATROLS,
        vec![
            Val::Ids(grid_ids.to_vec()),
            Val::id(worker_id.unwrap_or(0)),
            Val::time(from),
            Val::time(to),
            Val::Int(Some(limit)),
        ],
        patrol,
    )
    .await
}

pub async fn link_case(db: &dyn FieldStore, patrol_id: Id, case_id: Id) -> StoreResult<()> {
    db.field_write(Write::new().exec(LINK_CASE, vec![Val::id(patrol_id), Val::id(case_id)]))
        .await?;
    Ok(())
}

pub async fn cases_of(db: &dyn FieldStore, patrol_id: Id) -> StoreResult<Vec<Id>> {
    query(db, PATROL_CASES, vec![Val::id(patrol_id)], |r| r.int(0)).await
}

pub async fn check_in(db: &dyn FieldStore, c: NewCheckin) -> StoreResult<Id> {
    db.field_write(Write::new().insert(
        INSERT_CHECKIN,
        vec![
            Val::Int(c.patrol_id),
            Val::id(c.worker_id),
            Val::id(c.grid_id),
            Val::time(c.at),
            Val::Int(c.building_id),
            Val::Int(c.household_id),
            Val::Int(c.business_id),
            Val::text(c.note),
        ],
    ))
    .await?
    .id()
}

pub async fn checkins(db: &dyn FieldStore, patrol_id: Id) -> StoreResult<Vec<Checkin>> {
    query(db, CHECKINS, vec![Val::id(patrol_id)], |r| {
        Ok(Checkin {
            id: r.int(0)?,
            patrol_id: r.opt_int(1)?,
            worker_id: r.int(2)?,
            grid_id: r.int(3)?,
            at: r.time(4)?,
            building_id: r.opt_int(5)?,
            household_id: r.opt_int(6)?,
            business_id: r.opt_int(7)?,
            place: r.text(8)?,
            note: r.text(9)?,
        })
    })
    .await
}

/// Records a safety check, audited.
pub async fn inspect(db: &dyn FieldStore, i: NewInspection, audit: AuditEntry) -> StoreResult<Id> {
    db.field_write(
        Write::new()
            .insert(
                INSERT_INSPECTION,
                vec![
                    Val::id(i.business_id),
                    Val::id(i.grid_id),
                    Val::id(i.inspector_id),
                    Val::Int(i.patrol_id),
                    Val::time(i.at),
                    Val::json(&i.answers)?,
                    Val::Int(Some(i.failed)),
                ],
            )
            .audit(audit),
    )
    .await?
    .id()
}

pub async fn set_inspection_cases(db: &dyn FieldStore, id: Id, case_ids: &[Id]) -> StoreResult<()> {
    db.field_write(Write::new().exec(
        SET_INSPECTION_CASES,
        vec![Val::json(case_ids)?, Val::id(id)],
    ))
    .await?;
    Ok(())
}

pub async fn inspection_by_id(db: &dyn FieldStore, id: Id) -> StoreResult<Option<Inspection>> {
    query_one(db, INSPECTION, vec![Val::id(id)], inspection).await
}

pub async fn inspections_of(db: &dyn FieldStore, business_id: Id) -> StoreResult<Vec<Inspection>> {
    query(
        db,
        INSPECTIONS_OF_BUSINESS,
        vec![Val::id(business_id)],
        inspection,
    )
    .await
}

pub async fn stats(
    db: &dyn FieldStore,
    grid_ids: &[Id],
    from: Timestamp,
    to: Timestamp,
) -> StoreResult<Vec<PatrolStat>> {
    query(
        db,
        PATROL_STATS,
        vec![Val::Ids(grid_ids.to_vec()), Val::time(from), Val::time(to)],
        |r| {
            Ok(PatrolStat {
                worker_id: r.int(0)?,
                worker_name: r.text(1)?,
                grid_id: r.int(2)?,
                patrols: r.int(3)?,
                days: r.int(4)?,
                minutes: r.int(5)?,
                distance_m: r.real(6)?,
            })
        },
    )
    .await
}

pub async fn coverage(
    db: &dyn FieldStore,
    grid_ids: &[Id],
    from: Timestamp,
    to: Timestamp,
) -> StoreResult<Vec<Coverage>> {
    query(
        db,
        COVERAGE,
        vec![Val::time(from), Val::time(to), Val::Ids(grid_ids.to_vec())],
        |r| {
            Ok(Coverage {
                grid_id: r.int(0)?,
                households: r.int(1)?,
                households_visited: r.int(2)?,
                businesses: r.int(3)?,
                businesses_visited: r.int(4)?,
            })
        },
    )
    .await
}

/// The position of the building a dwelling is in.
pub async fn dwelling_position(
    db: &dyn FieldStore,
    dwelling_id: Id,
) -> StoreResult<Option<GeoPoint>> {
    query_one(db, DWELLING_POSITION, vec![Val::id(dwelling_id)], |r| {
        GeoPoint::new(r.real(0)?, r.real(1)?).map_err(|e| StoreError::Corrupt(e.to_string()))
    })
    .await
}
