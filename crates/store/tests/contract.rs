//! The storage contract: every test runs on SQLite and on PostgreSQL, each
//! on a fresh database (see `wangge-testkit`).

use std::sync::Arc;

use jiff::Timestamp;
use wangge_core::GeoPoint;
use wangge_core::codes::{CommunityCode, ExternalGridCode, GridCode};
use wangge_core::org::BuildingUse;
use wangge_store::{
    BoundaryChange, BoundaryChanges, NewBuilding, NewUnit, OrgNames, Store, StoreError,
};
use wangge_testkit::{TestDb, both_backends};

const SQUARE: &str = r#"{"type":"Polygon","coordinates":[[[117.0,31.0],[117.01,31.0],[117.01,31.01],[117.0,31.01],[117.0,31.0]]]}"#;
const SMALLER: &str = r#"{"type":"Polygon","coordinates":[[[117.0,31.0],[117.005,31.0],[117.005,31.01],[117.0,31.01],[117.0,31.0]]]}"#;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn code(s: &str) -> GridCode {
    GridCode::parse(s).unwrap()
}

fn names() -> OrgNames {
    OrgNames {
        district: Some("新城区".into()),
        street: Some("幸福路街道".into()),
        community: Some("和平社区".into()),
    }
}

fn create(c: &str, name: &str) -> BoundaryChange {
    BoundaryChange::Create {
        code: code(c),
        name: name.into(),
        external_code: None,
        names: names(),
        geometry: SQUARE.into(),
    }
}

fn batch(effective: &str, changes: Vec<BoundaryChange>) -> BoundaryChanges {
    BoundaryChanges {
        effective: ts(effective),
        recorded_at: ts(effective),
        changes,
        reassign_buildings: Vec::new(),
    }
}

async fn two_grids(store: &Arc<dyn Store>) {
    store
        .apply_boundary_changes(batch(
            "2026-01-01T00:00:00Z",
            vec![
                create("34017100100102", "第二网格"),
                create("34017100100101", "第一网格"),
            ],
        ))
        .await
        .unwrap();
}

fn building(community_id: i64, grid_id: i64, number: &str, units: i64) -> NewBuilding {
    NewBuilding {
        community_id,
        grid_id,
        number: number.into(),
        name: format!("{number}栋"),
        address: format!("和平路{number}号"),
        location: GeoPoint::new(117.005, 31.005).unwrap(),
        floors: 6,
        building_use: BuildingUse::Residential,
        units: (1..=units)
            .map(|n| NewUnit {
                number: n,
                floors: 6,
                dwellings_per_floor: 2,
            })
            .collect(),
    }
}

async fn health_answers(db: &TestDb) {
    db.store.health().await.unwrap();
    assert_eq!(db.store.boundaries_revision().await.unwrap(), 0);
    assert!(db.store.list_communities().await.unwrap().is_empty());
}

async fn creating_grids_creates_their_hierarchy(db: &TestDb) {
    let store = &db.store;
    two_grids(store).await;
    let communities = store.list_communities().await.unwrap();
    assert_eq!(communities.len(), 1);
    let c = &communities[0];
    assert_eq!(c.community.code.as_str(), "340171001001");
    assert_eq!(c.community.name, "和平社区");
    assert_eq!(c.street_code.as_str(), "340171001");
    assert_eq!(c.street_name, "幸福路街道");
    assert_eq!(c.district_code.as_str(), "340171");
    assert_eq!(c.district_name, "新城区");
    assert_eq!(c.grid_count, 2);

    let grids = store.list_grids(None).await.unwrap();
    let codes: Vec<&str> = grids.iter().map(|g| g.grid.code.as_str()).collect();
    assert_eq!(codes, ["34017100100101", "34017100100102"], "code order");
    let of_community = store
        .list_grids(Some(&CommunityCode::parse("340171001001").unwrap()))
        .await
        .unwrap();
    assert_eq!(of_community.len(), 2);
    let none = store
        .list_grids(Some(&CommunityCode::parse("340171001002").unwrap()))
        .await
        .unwrap();
    assert!(none.is_empty());

    let g = store.grid(grids[0].grid.id).await.unwrap().unwrap();
    assert_eq!(g.grid.name, "第一网格");
    assert_eq!(g.community_name, "和平社区");
    let by_code = store
        .grid_by_code(&code("34017100100102"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_code.grid.name, "第二网格");
    assert!(store.grid(i64::MAX).await.unwrap().is_none());
    assert!(
        store
            .grid_by_code(&code("34017100100109"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.boundaries_revision().await.unwrap(), 1);
}

async fn a_missing_org_name_fails_the_whole_batch(db: &TestDb) {
    let store = &db.store;
    let orphan = BoundaryChange::Create {
        code: code("34017100200101"),
        name: "无名社区网格".into(),
        external_code: None,
        names: OrgNames::default(),
        geometry: SQUARE.into(),
    };
    let err = store
        .apply_boundary_changes(batch(
            "2026-01-01T00:00:00Z",
            vec![create("34017100100101", "第一网格"), orphan],
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    // Nothing of the batch was kept, not even the good first change.
    assert!(store.list_grids(None).await.unwrap().is_empty());
    assert!(store.list_communities().await.unwrap().is_empty());
    assert_eq!(store.boundaries_revision().await.unwrap(), 0);
}

async fn redrawing_keeps_history(db: &TestDb) {
    let store = &db.store;
    two_grids(store).await;
    let grid = store
        .grid_by_code(&code("34017100100101"))
        .await
        .unwrap()
        .unwrap();
    store
        .apply_boundary_changes(batch(
            "2026-03-01T00:00:00Z",
            vec![BoundaryChange::Redraw {
                grid_id: grid.grid.id,
                expected_version: 1,
                geometry: SMALLER.into(),
            }],
        ))
        .await
        .unwrap();
    let history = store.boundary_history(grid.grid.id).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].version, 2, "newest first");
    assert_eq!(history[0].valid_from, ts("2026-03-01T00:00:00Z"));
    assert_eq!(history[0].valid_to, None);
    assert_eq!(history[0].geometry, SMALLER);
    assert_eq!(history[1].valid_to, Some(ts("2026-03-01T00:00:00Z")));
    assert!(history[1].valid_at(ts("2026-02-01T00:00:00Z")));
    assert!(!history[1].valid_at(ts("2026-03-01T00:00:00Z")));

    let all = store.all_boundaries().await.unwrap();
    assert_eq!(all.len(), 3);
    let current = store
        .current_boundaries_of_community(&CommunityCode::parse("340171001001").unwrap())
        .await
        .unwrap();
    let current: Vec<(&str, i64)> = current
        .iter()
        .map(|b| (b.code.as_str(), b.version))
        .collect();
    assert_eq!(current, [("34017100100101", 2), ("34017100100102", 1)]);
    let other = store
        .current_boundaries_of_community(&CommunityCode::parse("340171001002").unwrap())
        .await
        .unwrap();
    assert!(other.is_empty());
    assert_eq!(store.boundaries_revision().await.unwrap(), 2);
}

async fn a_stale_redraw_is_a_conflict_and_changes_nothing(db: &TestDb) {
    let store = &db.store;
    two_grids(store).await;
    let grid = store
        .grid_by_code(&code("34017100100101"))
        .await
        .unwrap()
        .unwrap();
    let redraw = |version| BoundaryChange::Redraw {
        grid_id: grid.grid.id,
        expected_version: version,
        geometry: SMALLER.into(),
    };
    store
        .apply_boundary_changes(batch("2026-03-01T00:00:00Z", vec![redraw(1)]))
        .await
        .unwrap();
    // Someone else's redraw, based on version 1, arrives late; it comes
    // after a good change in its batch, which must roll back with it.
    let err = store
        .apply_boundary_changes(batch(
            "2026-04-01T00:00:00Z",
            vec![create("34017100100103", "第三网格"), redraw(1)],
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert!(
        store
            .grid_by_code(&code("34017100100103"))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.boundary_history(grid.grid.id).await.unwrap().len(), 2);
    // A redraw may not start before the version it replaces.
    let err = store
        .apply_boundary_changes(batch("2026-02-01T00:00:00Z", vec![redraw(2)]))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

async fn renaming_and_external_codes(db: &TestDb) {
    let store = &db.store;
    two_grids(store).await;
    let grid = store
        .grid_by_code(&code("34017100100101"))
        .await
        .unwrap()
        .unwrap();
    let ext = ExternalGridCode::parse("34017100100101000001").unwrap();
    store
        .apply_boundary_changes(batch(
            "2026-02-01T00:00:00Z",
            vec![BoundaryChange::Rename {
                grid_id: grid.grid.id,
                name: "和平一网格".into(),
                external_code: Some(ext.clone()),
            }],
        ))
        .await
        .unwrap();
    let g = store.grid(grid.grid.id).await.unwrap().unwrap();
    assert_eq!(g.grid.name, "和平一网格");
    assert_eq!(g.grid.external_code, Some(ext.clone()));
    // External codes are unique.
    let other = store
        .grid_by_code(&code("34017100100102"))
        .await
        .unwrap()
        .unwrap();
    let err = store
        .apply_boundary_changes(batch(
            "2026-02-01T00:00:00Z",
            vec![BoundaryChange::Rename {
                grid_id: other.grid.id,
                name: "重复".into(),
                external_code: Some(ext),
            }],
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

async fn buildings_with_units(db: &TestDb) {
    let store = &db.store;
    two_grids(store).await;
    let g1 = store
        .grid_by_code(&code("34017100100101"))
        .await
        .unwrap()
        .unwrap();
    let g2 = store
        .grid_by_code(&code("34017100100102"))
        .await
        .unwrap()
        .unwrap();
    let cid = g1.grid.community_id;
    let ids = store
        .insert_buildings(vec![
            building(cid, g1.grid.id, "13", 3),
            building(cid, g1.grid.id, "2", 2),
            building(cid, g2.grid.id, "7", 1),
        ])
        .await
        .unwrap();
    assert_eq!(ids.len(), 3);
    let in_g1 = store.buildings_of_grid(g1.grid.id).await.unwrap();
    let names: Vec<&str> = in_g1.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["2栋", "13栋"], "natural order of building numbers");
    let b13 = store.building(ids[0]).await.unwrap().unwrap();
    assert_eq!(b13.name, "13栋");
    assert_eq!(b13.unit_count, 3);
    assert_eq!(b13.location, GeoPoint::new(117.005, 31.005).unwrap());
    assert_eq!(b13.building_use, BuildingUse::Residential);
    let units = store.units_of_building(ids[0]).await.unwrap();
    assert_eq!(
        units.iter().map(|u| u.number).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        store
            .grid(g1.grid.id)
            .await
            .unwrap()
            .unwrap()
            .building_count,
        2
    );
    assert_eq!(store.all_buildings().await.unwrap().len(), 3);

    // A number already used in the community: the whole batch is refused.
    let err = store
        .insert_buildings(vec![
            building(cid, g2.grid.id, "8", 1),
            building(cid, g2.grid.id, "13", 1),
        ])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.all_buildings().await.unwrap().len(), 3);
    // A grid that does not exist is refused by the foreign key.
    let err = store
        .insert_buildings(vec![building(cid, 999_999, "99", 1)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
}

async fn reassigning_buildings_moves_them_with_the_boundary(db: &TestDb) {
    let store = &db.store;
    two_grids(store).await;
    let g1 = store
        .grid_by_code(&code("34017100100101"))
        .await
        .unwrap()
        .unwrap();
    let ids = store
        .insert_buildings(vec![building(g1.grid.community_id, g1.grid.id, "1", 1)])
        .await
        .unwrap();
    let mut changes = batch(
        "2026-03-01T00:00:00Z",
        vec![BoundaryChange::Redraw {
            grid_id: g1.grid.id,
            expected_version: 1,
            geometry: SMALLER.into(),
        }],
    );
    changes.reassign_buildings = vec![(ids[0], code("34017100100102"))];
    store.apply_boundary_changes(changes).await.unwrap();
    let b = store.building(ids[0]).await.unwrap().unwrap();
    let g2 = store
        .grid_by_code(&code("34017100100102"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.grid_id, g2.grid.id);
}

async fn timestamps_keep_microseconds(db: &TestDb) {
    let store = &db.store;
    let at = ts("2026-11-29T08:49:17.123456Z");
    store
        .apply_boundary_changes(batch(
            "2026-11-29T08:49:17.123456Z",
            vec![create("34017100100101", "一")],
        ))
        .await
        .unwrap();
    let grid = store
        .grid_by_code(&code("34017100100101"))
        .await
        .unwrap()
        .unwrap();
    let history = store.boundary_history(grid.grid.id).await.unwrap();
    assert_eq!(history[0].valid_from, at);
}

async fn jobs_are_claimed_by_one_node_at_a_time(db: &TestDb) {
    let store = db.store.clone();
    let t0 = ts("2026-11-30T01:00:00Z");
    let job = |n: usize, key: Option<&str>| wangge_store::NewJob {
        kind: "webhook".into(),
        unique_key: key.map(str::to_owned),
        payload: format!("{{\"n\":{n}}}"),
        run_at: t0,
    };
    store
        .enqueue_jobs((0..20).map(|n| job(n, None)).collect())
        .await
        .unwrap();
    // A recurring job is queued once, however often it is asked for.
    for _ in 0..3 {
        store
            .enqueue_jobs(vec![wangge_store::NewJob {
                kind: "sweep".into(),
                ..job(0, Some("sweep"))
            }])
            .await
            .unwrap();
    }
    let lease = t0 + jiff::SignedDuration::from_mins(1);
    // Two nodes claim at once: every job goes to exactly one of them.
    let (a, b) = tokio::join!(
        store.claim_jobs("webhook", "node-a", t0, lease, 15),
        store.claim_jobs("webhook", "node-b", t0, lease, 15),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut ids: Vec<i64> = a.iter().chain(&b).map(|j| j.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 20, "no job twice, none left out");
    assert_eq!(a.len() + b.len(), 20);
    assert!(a.iter().chain(&b).all(|j| j.attempts == 1));
    let sweeps = store
        .claim_jobs("sweep", "node-a", t0, lease, 10)
        .await
        .unwrap();
    assert_eq!(sweeps.len(), 1);
    // Only the lease holder ends a job.
    let first = a.first().or(b.first()).unwrap().clone();
    let holder = if a.iter().any(|j| j.id == first.id) {
        "node-a"
    } else {
        "node-b"
    };
    assert!(matches!(
        store
            .finish_job(first.id, "node-c", wangge_store::JobOutcome::Done, None)
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .finish_job(
            first.id,
            holder,
            wangge_store::JobOutcome::Retry {
                at: t0 + jiff::SignedDuration::from_mins(5),
                error: "503".into(),
            },
            None,
        )
        .await
        .unwrap();
    // Leased jobs are not claimed again until their lease runs out.
    assert!(
        store
            .claim_jobs("webhook", "node-c", t0, lease, 50)
            .await
            .unwrap()
            .is_empty()
    );
    let later = t0 + jiff::SignedDuration::from_mins(2);
    let taken_over = store
        .claim_jobs(
            "webhook",
            "node-c",
            later,
            later + jiff::SignedDuration::from_mins(10),
            50,
        )
        .await
        .unwrap();
    assert_eq!(taken_over.len(), 19, "a dead node's jobs are taken over");
    assert!(taken_over.iter().all(|j| j.attempts == 2));
    // The retried one comes back when it is due, with its attempt counted.
    let due = t0 + jiff::SignedDuration::from_mins(5);
    let retried = store
        .claim_jobs(
            "webhook",
            "node-a",
            due,
            due + jiff::SignedDuration::from_mins(1),
            50,
        )
        .await
        .unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!((retried[0].id, retried[0].attempts), (first.id, 2));
    let counts = store.job_counts().await.unwrap();
    assert!(counts.contains(&("webhook".into(), "queued".into(), 20)));
}

async fn routing_rules_are_unique_per_category_and_place(db: &TestDb) {
    let store = db.store.clone();
    store
        .apply_boundary_changes(batch(
            "2026-01-01T00:00:00Z",
            vec![create("34010200100101", "和平社区第一网格")],
        ))
        .await
        .unwrap();
    let dept = store.insert_department("water", "供排水").await.unwrap();
    let community = store.list_communities().await.unwrap()[0].community.clone();
    let audit = || {
        wangge_store::AuditEntry::new(
            ts("2026-11-30T01:00:00Z"),
            None,
            "routing.add",
            "routing_rule",
        )
    };
    let rule =
        |community_id: Option<i64>, street_id: Option<i64>| wangge_core::routing::RoutingRule {
            id: 0,
            category: "0103".into(),
            community_id,
            street_id,
            department_id: dept,
        };
    let a = store
        .insert_routing_rule(rule(Some(community.id), None), audit())
        .await
        .unwrap();
    store
        .insert_routing_rule(rule(None, Some(community.street_id)), audit())
        .await
        .unwrap();
    store
        .insert_routing_rule(rule(None, None), audit())
        .await
        .unwrap();
    for again in [rule(Some(community.id), None), rule(None, None)] {
        assert!(matches!(
            store.insert_routing_rule(again, audit()).await,
            Err(StoreError::Conflict(_))
        ));
    }
    assert_eq!(store.routing_rules().await.unwrap().len(), 3);
    store.delete_routing_rule(a, audit()).await.unwrap();
    assert!(matches!(
        store.delete_routing_rule(a, audit()).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.routing_rules().await.unwrap().len(), 2);
}

both_backends!(
    routing_rules_are_unique_per_category_and_place,
    jobs_are_claimed_by_one_node_at_a_time,
    health_answers,
    creating_grids_creates_their_hierarchy,
    a_missing_org_name_fails_the_whole_batch,
    redrawing_keeps_history,
    a_stale_redraw_is_a_conflict_and_changes_nothing,
    renaming_and_external_codes,
    buildings_with_units,
    reassigning_buildings_moves_them_with_the_boundary,
    timestamps_keep_microseconds,
);

/// What only the SQLite backend has: its pragmas and its group-commit writer.
mod sqlite_writer {
    use std::sync::Arc;

    use rusqlite::Connection;
    use wangge_store::StoreError;
    use wangge_store::sqlite::SqliteStore;

    async fn store() -> (wangge_testkit::TestDb, Arc<SqliteStore>) {
        let db = wangge_testkit::sqlite().await;
        let s = db.sqlite.clone().unwrap();
        s.write(|c| {
            c.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY, v TEXT NOT NULL)")?;
            Ok(())
        })
        .await
        .unwrap();
        (db, s)
    }

    #[tokio::test]
    async fn pragmas_are_safe() {
        let (_db, s) = store().await;
        let (journal, sync, fk): (String, i64, i64) = s
            .write(|c| {
                Ok((
                    c.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    c.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
                    c.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        assert_eq!(sync, 2, "synchronous=FULL");
        assert_eq!(fk, 1);
        // Readers see the same safety settings and cannot write.
        let err = s
            .read(|c| Ok(c.execute("INSERT INTO t (v) VALUES ('x')", [])?))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Database(_)), "{err:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_are_all_answered_and_durable() {
        let (db, s) = store().await;
        let mut tasks = Vec::new();
        for i in 0..2000 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.write(move |c| {
                    c.prepare_cached("INSERT INTO t (n, v) VALUES (?1, ?2)")?
                        .execute(rusqlite::params![i, format!("v{i}")])?;
                    Ok(i)
                })
                .await
            }));
        }
        for (i, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap().unwrap(), i as i64);
        }
        // A separate connection sees every row: each answer meant committed.
        let path = db.sqlite.as_ref().unwrap().path().to_owned();
        let count: i64 = Connection::open(path)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 2000);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_command_rolls_back_alone() {
        let (_db, s) = store().await;
        let mut tasks = Vec::new();
        for i in 0..200i64 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.write(move |c| {
                    c.execute("INSERT INTO t (n, v) VALUES (?1, 'first')", [i * 2])?;
                    if i % 10 == 0 {
                        // Half-done work of a failing command must vanish.
                        c.execute("INSERT INTO t (n, v) VALUES (?1, 'second')", [i * 2 + 1])?;
                        return Err(StoreError::Conflict(format!("command {i} refused")));
                    }
                    Ok(())
                })
                .await
            }));
        }
        let mut failed = 0;
        for t in tasks {
            if t.await.unwrap().is_err() {
                failed += 1;
            }
        }
        assert_eq!(failed, 20);
        let (count, odd): (i64, i64) = s
            .read(|c| {
                Ok((
                    c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))?,
                    c.query_row("SELECT COUNT(*) FROM t WHERE n % 2 = 1", [], |r| r.get(0))?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(count, 180);
        assert_eq!(odd, 0);
    }

    #[tokio::test]
    async fn a_panicking_command_does_not_stop_the_writer() {
        let (_db, s) = store().await;
        let err = s
            .write(|c| -> Result<(), StoreError> {
                c.execute("INSERT INTO t (n, v) VALUES (1, 'doomed')", [])?;
                panic!("a bug in one command");
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Closed), "{err:?}");
        s.write(|c| {
            c.execute("INSERT INTO t (n, v) VALUES (2, 'fine')", [])?;
            Ok(())
        })
        .await
        .unwrap();
        let rows: Vec<i64> = s
            .read(|c| {
                let mut stmt = c.prepare("SELECT n FROM t ORDER BY n")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
            .unwrap();
        assert_eq!(rows, [2]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bulk_write_commits_alone_and_fails_whole() {
        let (_db, s) = store().await;
        let bulk = |fail: bool, from: i64| {
            move |c: &Connection| {
                for n in from..from + 1000 {
                    c.execute("INSERT INTO t (n, v) VALUES (?1, 'bulk')", [n])?;
                }
                if fail {
                    return Err(StoreError::Conflict("row 1000 is wrong".into()));
                }
                Ok(())
            }
        };
        // Small commands queued on every side of two bulk writes.
        let mut tasks = Vec::new();
        for i in 0..300i64 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                match i {
                    100 => s.write_alone(bulk(true, 10_000)).await,
                    200 => s.write_alone(bulk(false, 20_000)).await,
                    _ => {
                        s.write(move |c| {
                            c.execute("INSERT INTO t (n, v) VALUES (?1, 'small')", [i])?;
                            Ok(())
                        })
                        .await
                    }
                }
            }));
        }
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.unwrap().is_ok());
        }
        assert!(
            !outcomes[100],
            "the failing bulk write is answered with its error"
        );
        assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 299);
        let (small, failed, kept): (i64, i64, i64) = s
            .read(|c| {
                let count = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0));
                Ok((
                    count("SELECT COUNT(*) FROM t WHERE v = 'small'")?,
                    count("SELECT COUNT(*) FROM t WHERE n BETWEEN 10000 AND 10999")?,
                    count("SELECT COUNT(*) FROM t WHERE n BETWEEN 20000 AND 20999")?,
                ))
            })
            .await
            .unwrap();
        assert_eq!((small, failed, kept), (298, 0, 1000));
    }

    /// The documents matching one token, by record id.
    async fn found(s: &SqliteStore, token: &'static str) -> Vec<i64> {
        s.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT d.record_id FROM search_fts JOIN search_docs d ON d.id = search_fts.rowid \
                 WHERE search_fts MATCH ?1 ORDER BY d.record_id",
            )?;
            let rows = stmt.query_map([token], |r| r.get(0))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn search_documents_are_indexed_by_the_commit_that_writes_them() {
        let (_db, s) = store().await;
        let insert = "INSERT INTO search_docs (kind, record_id, grid_id, title, detail, tokens) \
                      VALUES ('case', ?1, 1, '', '', ?2)";
        s.write(move |c| {
            c.execute(insert, rusqlite::params![1, "井盖 雨水"])?;
            c.execute(insert, rusqlite::params![2, "路灯"])?;
            c.execute(insert, rusqlite::params![3, "占道"])?;
            // Changed and removed while still queued, in the same transaction.
            c.execute(
                "UPDATE search_docs SET tokens = '噪音' WHERE record_id = 2",
                [],
            )?;
            c.execute("DELETE FROM search_docs WHERE record_id = 3", [])?;
            // Nothing is indexed before the commit.
            let indexed: i64 = c.query_row("SELECT COUNT(*) FROM search_fts", [], |r| r.get(0))?;
            assert_eq!(indexed, 0);
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(found(&s, "井盖").await, [1]);
        assert_eq!(found(&s, "zgrid1").await, [1, 2]);
        assert!(found(&s, "路灯").await.is_empty());
        assert_eq!(found(&s, "噪音").await, [2]);
        assert!(found(&s, "占道").await.is_empty());
        // Changing and removing documents already in the index.
        s.write(|c| {
            c.execute(
                "UPDATE search_docs SET tokens = '路灯', grid_id = 2 WHERE record_id = 1",
                [],
            )?;
            c.execute("DELETE FROM search_docs WHERE record_id = 2", [])?;
            Ok(())
        })
        .await
        .unwrap();
        assert!(found(&s, "井盖").await.is_empty());
        assert_eq!(found(&s, "路灯").await, [1]);
        assert_eq!(found(&s, "zgrid2").await, [1]);
        assert!(found(&s, "zgrid1").await.is_empty());
        assert!(found(&s, "噪音").await.is_empty());
        // The queue is empty and the index consistent.
        let queued: i64 = s
            .write(|c| {
                c.execute(
                    "INSERT INTO search_fts (search_fts, rank) VALUES ('integrity-check', 0)",
                    [],
                )?;
                Ok(c.query_row("SELECT COUNT(*) FROM search_queue", [], |r| r.get(0))?)
            })
            .await
            .unwrap();
        assert_eq!(queued, 0);
    }

    #[tokio::test]
    async fn reopening_keeps_data_and_schema() {
        let db = wangge_testkit::sqlite().await;
        let path = db.sqlite.as_ref().unwrap().path().to_owned();
        drop(db.sqlite.clone());
        let again = SqliteStore::open(&path, 1).await.unwrap();
        use wangge_store::Store;
        again.health().await.unwrap();
        assert_eq!(again.boundaries_revision().await.unwrap(), 0);
    }
}
