//! Use cases on both backends: boundary import (atomic, versioned), point
//! lookup by date, building reassignment, export round trip, the demo.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};
use wangge_app::{App, AppError, FixedClock, ImportOptions, Located, Vault};
use wangge_core::GeoPoint;
use wangge_core::codes::GridCode;
use wangge_geo::BoundaryProblem;
use wangge_testkit::{TestDb, both_backends};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

async fn app_at(db: &TestDb, now: &str) -> (Arc<App>, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::new(ts(now)));
    let app = App::new(
        db.store.clone(),
        clock.clone(),
        Vault::from_master_key(&[7; 32]),
    )
    .await
    .unwrap();
    (app, clock)
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Value {
    json!({ "type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] })
}

fn feature(code: &str, name: &str, geometry: Value) -> Value {
    json!({
        "type": "Feature",
        "properties": {
            "code": code, "name": name,
            "community_name": "和平社区", "street_name": "幸福路街道", "district_name": "新城区",
        },
        "geometry": geometry,
    })
}

fn file(features: Vec<Value>) -> Vec<u8> {
    json!({ "type": "FeatureCollection", "features": features })
        .to_string()
        .into_bytes()
}

fn pt(lon: f64, lat: f64) -> GeoPoint {
    GeoPoint::new(lon, lat).unwrap()
}

fn grid_code(located: &Located) -> Option<&str> {
    match located {
        Located::Inside { grid } => Some(grid.grid.code.as_str()),
        Located::Outside => None,
    }
}

/// Grid 01 covers [117.00, 117.02] × [31.00, 31.01].
fn one_wide_grid() -> Vec<u8> {
    file(vec![feature(
        "34017100100101",
        "第一网格",
        rect(117.0, 31.0, 117.02, 31.01),
    )])
}

async fn import_creates_grids_and_the_index_finds_them(db: &TestDb) {
    let (app, _) = app_at(db, "2026-01-10T00:00:00Z").await;
    let report = app
        .import_boundaries(&one_wide_grid(), ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(report.created.len(), 1);
    let inside = app.locate(pt(117.01, 31.005), None).await.unwrap();
    assert_eq!(grid_code(&inside), Some("34017100100101"));
    let edge = app.locate(pt(117.02, 31.005), None).await.unwrap();
    assert_eq!(
        grid_code(&edge),
        Some("34017100100101"),
        "an edge belongs to the grid"
    );
    let outside = app.locate(pt(117.5, 31.5), None).await.unwrap();
    assert!(matches!(outside, Located::Outside));
    // Importing the same file again changes nothing.
    let again = app
        .import_boundaries(&one_wide_grid(), ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(again.unchanged, 1);
    assert!(again.created.is_empty() && again.redrawn.is_empty());
    assert_eq!(db.store.boundaries_revision().await.unwrap(), 1);
}

async fn a_bad_file_imports_nothing(db: &TestDb) {
    let (app, _) = app_at(db, "2026-01-10T00:00:00Z").await;
    let bow_tie = json!({ "type": "Polygon", "coordinates": [[[117.0, 31.0], [117.01, 31.01], [117.01, 31.0], [117.0, 31.01], [117.0, 31.0]]] });
    let err = app
        .import_boundaries(
            &file(vec![
                feature("34017100100101", "好的", rect(117.0, 31.0, 117.01, 31.01)),
                feature("34017100100102", "坏的", bow_tie),
            ]),
            ImportOptions::default(),
        )
        .await
        .unwrap_err();
    let AppError::BadBoundaries(errors) = err else {
        panic!("{err:?}")
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].index, Some(1));
    assert!(
        db.store.list_grids(None).await.unwrap().is_empty(),
        "nothing half-imported"
    );
    assert!(db.store.list_communities().await.unwrap().is_empty());
}

async fn a_new_community_without_its_name_is_refused(db: &TestDb) {
    let (app, _) = app_at(db, "2026-01-10T00:00:00Z").await;
    let nameless = json!({
        "type": "Feature",
        "properties": { "code": "34017100100101", "name": "一" },
        "geometry": rect(117.0, 31.0, 117.01, 31.01),
    });
    let err = app
        .import_boundaries(&file(vec![nameless]), ImportOptions::default())
        .await
        .unwrap_err();
    let AppError::BadBoundaries(errors) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        errors[0].problem,
        BoundaryProblem::MissingProperty("district_name")
    );
    assert!(db.store.list_grids(None).await.unwrap().is_empty());
}

async fn a_redrawn_boundary_answers_by_date(db: &TestDb) {
    let (app, clock) = app_at(db, "2026-01-10T00:00:00Z").await;
    app.import_boundaries(&one_wide_grid(), ImportOptions::default())
        .await
        .unwrap();
    let community = db.store.list_communities().await.unwrap()[0].community.id;
    let grid1 = db
        .store
        .grid_by_code(&GridCode::parse("34017100100101").unwrap())
        .await
        .unwrap()
        .unwrap();
    // A building in the east half, in grid 01 for now.
    let ids = db
        .store
        .insert_buildings(vec![wangge_store::NewBuilding {
            community_id: community,
            grid_id: grid1.grid.id,
            number: "13".into(),
            name: "13栋".into(),
            address: "和平路13号".into(),
            location: pt(117.015, 31.005),
            floors: 6,
            building_use: wangge_core::org::BuildingUse::Mixed,
            units: vec![wangge_store::NewUnit {
                number: 1,
                floors: 6,
                dwellings_per_floor: 2,
            }],
        }])
        .await
        .unwrap();
    // A household lives there, with one member.
    let unit = db.store.units_of_building(ids[0]).await.unwrap()[0].id;
    let dwelling = db
        .store
        .insert_dwellings(vec![wangge_store::NewDwelling {
            unit_id: unit,
            floor: 1,
            number: "101".into(),
            dwelling_use: "own".into(),
            area_m2: None,
        }])
        .await
        .unwrap()[0];
    let secretary = wangge_core::policy::Actor {
        user_id: 0,
        role: wangge_core::policy::Role::CommunitySecretary,
        grids: vec![],
        communities: vec![community],
        streets: vec![],
        departments: vec![],
    };
    let household = app
        .create_household(
            &secretary,
            grid1.grid.id,
            Some(dwelling),
            "和平路13号1单元101室",
        )
        .await
        .unwrap();
    let first17 = "34017119800101001";
    let id_number = format!(
        "{first17}{}",
        wangge_core::idnumber::check_char(first17.as_bytes()) as char
    );
    let resident = app
        .create_resident(
            &secretary,
            household,
            &wangge_core::register::ResidentForm {
                name: "李明芳".into(),
                id_number,
                phone: None,
                ethnicity: "汉族".into(),
                residence_type: "registered".into(),
                relation: "head".into(),
                political_status: "masses".into(),
                tags: vec![],
            },
        )
        .await
        .unwrap();

    // In March, grid 01 shrinks to the west half and grid 02 takes the east.
    clock.set(ts("2026-03-15T00:00:00Z"));
    let redraw = file(vec![
        feature(
            "34017100100101",
            "第一网格",
            rect(117.0, 31.0, 117.01, 31.01),
        ),
        feature(
            "34017100100102",
            "第二网格",
            rect(117.01, 31.0, 117.02, 31.01),
        ),
    ]);
    let dry = app
        .import_boundaries(
            &redraw,
            ImportOptions {
                effective: Some(ts("2026-03-01T00:00:00Z")),
                dry_run: true,
            },
        )
        .await
        .unwrap();
    assert_eq!((dry.created.len(), dry.redrawn.len()), (1, 1));
    assert_eq!(dry.buildings_reassigned, 1);
    assert_eq!(
        db.store.list_grids(None).await.unwrap().len(),
        1,
        "a dry run writes nothing"
    );

    let report = app
        .import_boundaries(
            &redraw,
            ImportOptions {
                effective: Some(ts("2026-03-01T00:00:00Z")),
                dry_run: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(report.redrawn.len(), 1);
    assert_eq!(report.created.len(), 1);
    assert_eq!(report.buildings_reassigned, 1);

    let east = pt(117.015, 31.005);
    let before = app
        .locate(east, Some(ts("2026-02-01T00:00:00Z")))
        .await
        .unwrap();
    assert_eq!(
        grid_code(&before),
        Some("34017100100101"),
        "old boundary for a past date"
    );
    let today = app.locate(east, None).await.unwrap();
    assert_eq!(
        grid_code(&today),
        Some("34017100100102"),
        "new boundary today"
    );
    // The building followed its boundary.
    let b = db.store.building(ids[0]).await.unwrap().unwrap();
    let grid2 = db
        .store
        .grid_by_code(&GridCode::parse("34017100100102").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.grid_id, grid2.grid.id);
    // Its household and their members moved with it.
    assert_eq!(
        app.household(&secretary, household).await.unwrap().grid_id,
        grid2.grid.id
    );
    assert_eq!(
        app.resident(&secretary, resident)
            .await
            .unwrap()
            .resident
            .grid_id,
        grid2.grid.id
    );
    let detail = app.grid_detail(grid1.grid.id).await.unwrap();
    assert_eq!(detail.history.len(), 2);

    // The past can be exported too, and differs from today.
    let past = app
        .export_boundaries(Some(ts("2026-02-01T00:00:00Z")))
        .await
        .unwrap();
    assert_eq!(past["features"].as_array().unwrap().len(), 1);
    let now = app.export_boundaries(None).await.unwrap();
    assert_eq!(now["features"].as_array().unwrap().len(), 2);
}

async fn a_redraw_must_start_after_the_current_version(db: &TestDb) {
    let (app, _) = app_at(db, "2026-03-10T00:00:00Z").await;
    app.import_boundaries(&one_wide_grid(), ImportOptions::default())
        .await
        .unwrap();
    let err = app
        .import_boundaries(
            &file(vec![feature(
                "34017100100101",
                "第一网格",
                rect(117.0, 31.0, 117.01, 31.01),
            )]),
            ImportOptions {
                effective: Some(ts("2026-01-01T00:00:00Z")),
                dry_run: false,
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::BadBoundaries(_)), "{err:?}");
}

async fn export_then_import_changes_nothing(db: &TestDb) {
    let (app, _) = app_at(db, "2026-01-10T00:00:00Z").await;
    let demo = app.load_demo_geography().await.unwrap();
    assert_eq!(demo.grids, 16);
    let exported = app.export_boundaries(None).await.unwrap().to_string();
    let report = app
        .import_boundaries(exported.as_bytes(), ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(report.unchanged, 16);
    assert!(report.created.is_empty() && report.redrawn.is_empty() && report.renamed.is_empty());
    assert_eq!(report.buildings_reassigned, 0);
}

async fn the_demo_is_a_living_community(db: &TestDb) {
    let (app, _) = app_at(db, "2026-01-10T00:00:00Z").await;
    let report = app.load_demo_geography().await.unwrap();
    assert!(!report.already_loaded);
    assert_eq!(report.communities, 2);
    assert!(report.grids >= 12);
    assert!(report.buildings >= 100, "{report:?}");
    let communities = app.list_communities().await.unwrap();
    assert_eq!(communities.len(), 2);
    for g in app.list_grids(None).await.unwrap() {
        assert!(
            g.building_count > 0,
            "grid {} has no buildings",
            g.grid.code
        );
        // Every building lies inside the grid it is assigned to.
        for b in db.store.buildings_of_grid(g.grid.id).await.unwrap() {
            let located = app.locate(b.location, None).await.unwrap();
            assert_eq!(
                grid_code(&located),
                Some(g.grid.code.as_str()),
                "{}",
                b.name
            );
        }
    }
    // Building 13 of 和平社区, with shops on the ground floor, exists.
    let b13 = db
        .store
        .all_buildings()
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.number == "13" && b.community_id == communities[0].community.id)
        .unwrap();
    assert_eq!(b13.building_use, wangge_core::org::BuildingUse::Mixed);
    // Loading twice is harmless.
    assert!(app.load_demo_geography().await.unwrap().already_loaded);
    assert_eq!(app.list_grids(None).await.unwrap().len(), report.grids);
}

async fn a_second_node_sees_boundary_changes(db: &TestDb) {
    let (node_a, _) = app_at(db, "2026-01-10T00:00:00Z").await;
    let (node_b, _) = app_at(db, "2026-01-10T00:00:00Z").await;
    node_a
        .import_boundaries(&one_wide_grid(), ImportOptions::default())
        .await
        .unwrap();
    let p = pt(117.01, 31.005);
    assert!(matches!(
        node_b.locate(p, None).await.unwrap(),
        Located::Outside
    ));
    assert!(node_b.refresh_index_if_stale().await.unwrap());
    assert_eq!(
        grid_code(&node_b.locate(p, None).await.unwrap()),
        Some("34017100100101")
    );
    assert!(!node_b.refresh_index_if_stale().await.unwrap());
}

both_backends!(
    import_creates_grids_and_the_index_finds_them,
    a_bad_file_imports_nothing,
    a_new_community_without_its_name_is_refused,
    a_redrawn_boundary_answers_by_date,
    a_redraw_must_start_after_the_current_version,
    export_then_import_changes_nothing,
    the_demo_is_a_living_community,
    a_second_node_sees_boundary_changes,
    the_demo_stores_no_plaintext,
);

/// The full demo leaves no ID or phone number in the stored bytes: every
/// resident's and business's secrets are decrypted (the test holds the key)
/// and searched for in the SQLite files or a PostgreSQL dump.
async fn the_demo_stores_no_plaintext(db: &TestDb) {
    let (app, _) = app_at(db, "2026-11-29T09:00:00Z").await;
    let report = app.load_demo().await.unwrap();
    assert!(
        report.households >= 2000 && report.residents >= 5000 && report.businesses >= 100,
        "{report:?}"
    );
    // The cases come with photos, and the first sweep filled the inboxes.
    assert!(report.cases >= 300 && report.notices > 0, "{report:?}");
    let leader = db
        .store
        .user_by_username("wanggezhang.heping")
        .await
        .unwrap()
        .unwrap();
    assert!(db.store.unread_notifications(leader.id).await.unwrap() > 0);
    assert!(!db.store.case_photos(1).await.unwrap().is_empty());
    let vault = Vault::from_master_key(&[7; 32]);
    let grids: Vec<i64> = app
        .list_grids(None)
        .await
        .unwrap()
        .iter()
        .map(|g| g.grid.id)
        .collect();
    let scope = wangge_store::ScopeFilter::grids(grids);
    let mut plain = std::collections::HashSet::new();
    let mut offset = 0;
    loop {
        let page = db
            .store
            .residents(
                &scope,
                wangge_store::ResidentQuery {
                    household_id: None,
                    grid_id: None,
                    limit: 1000,
                    offset,
                },
            )
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        offset += page.len() as i64;
        for r in page {
            let s = db
                .store
                .resident_secrets(&scope, r.id)
                .await
                .unwrap()
                .unwrap();
            plain.insert(
                vault
                    .decrypt("resident.id_number", &s.id_cipher.unwrap())
                    .unwrap(),
            );
            if let Some(p) = s.phone_cipher {
                plain.insert(vault.decrypt("resident.phone", &p).unwrap());
            }
        }
    }
    for b in db
        .store
        .businesses(
            &scope,
            wangge_store::BusinessQuery {
                grid_id: None,
                limit: 1000,
                offset: 0,
            },
        )
        .await
        .unwrap()
    {
        let s = db
            .store
            .business_secrets(&scope, b.id)
            .await
            .unwrap()
            .unwrap();
        if let Some(p) = s.phone_cipher {
            plain.insert(vault.decrypt("business.phone", &p).unwrap());
        }
    }
    assert!(plain.len() > 5000, "{}", plain.len());

    let bytes = match &db.sqlite {
        Some(s) => ["", "-wal"]
            .iter()
            .flat_map(|suffix| {
                std::fs::read(format!("{}{suffix}", s.path().display())).unwrap_or_default()
            })
            .collect::<Vec<u8>>(),
        None => {
            let schema = db.url.split("search_path%3D").nth(1).unwrap().to_owned();
            let base = db.url.split('?').next().unwrap().to_owned();
            let out = std::process::Command::new("pg_dump")
                .args(["--schema", &schema, "--data-only", &base])
                .output()
                .expect("pg_dump (PostgreSQL client tools) is needed for this test");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out.stdout
        }
    };
    // Every 11- and 18-character window that could be a number, against the set.
    for len in [11, 18] {
        for w in bytes.windows(len) {
            if w.iter().all(|b| b.is_ascii_digit() || *b == b'X')
                && let Ok(s) = std::str::from_utf8(w)
            {
                assert!(!plain.contains(s), "{s} is stored in plain text");
            }
        }
    }
}
