//! Register import throughput: residents from a CSV file into SQLite
//! through the whole import (parsing, header mapping, validation of every
//! row, duplicate checks, encryption of ID and phone numbers, blind index,
//! search tokens, households by dwelling, one transaction, audit), beside
//! a raw batched insert of the same rows (already encrypted, tokens
//! computed) into the same schema, measured in the same run, for 10⁵ and
//! 10⁶ rows (`WANGGE_BENCH_IMPORT_ROWS`, comma-separated, to change).
//! Run through `bench/import`.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use rusqlite::params;
use wangge_app::sheets::ImportMode;
use wangge_app::{App, SystemClock, UserSpec, Vault};
use wangge_core::GeoPoint;
use wangge_core::idnumber::check_char;
use wangge_core::org::BuildingUse;
use wangge_core::policy::Role;
use wangge_store::sqlite::SqliteStore;
use wangge_store::{NewBuilding, NewDwelling, NewUnit, ScopeKind, Store};

/// The allocator the `wangge` binary runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
];
const GIVEN: &[&str] = &[
    "明", "芳", "建", "华", "秀", "英", "国", "强", "丽", "敏", "静", "军", "杰", "娟", "涛", "超",
];
const UNITS: i64 = 6;
const FLOORS: i64 = 10;
const PER_FLOOR: i64 = 4;

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wangge-bench-import-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir.join(format!("{name}.db"))
}

/// A fresh register with enough empty dwellings for `rows` residents
/// (three a dwelling) in the first demo community; its secretary.
async fn register(
    rows: usize,
    name: &str,
) -> (
    Arc<App>,
    Arc<SqliteStore>,
    wangge_core::policy::Actor,
    Vec<String>,
) {
    let store = Arc::new(
        SqliteStore::open(&temp_path(name), 4)
            .await
            .expect("sqlite"),
    );
    let app = App::new(
        store.clone(),
        Arc::new(SystemClock),
        Vault::from_master_key(&[7; 32]),
    )
    .await
    .expect("app");
    app.load_demo_geography().await.expect("geography");
    let grids = store.list_grids(None).await.expect("grids");
    let community = grids[0].grid.community_id;
    let ours: Vec<_> = grids
        .iter()
        .filter(|g| g.grid.community_id == community)
        .collect();
    let per_building = (UNITS * FLOORS * PER_FLOOR) as usize;
    let buildings = (rows / 3).div_ceil(per_building) + 1;
    let new: Vec<NewBuilding> = (0..buildings)
        .map(|i| NewBuilding {
            community_id: community,
            grid_id: ours[i % ours.len()].grid.id,
            number: format!("B{i:05}"),
            name: format!("B{i:05}栋"),
            address: format!("测试路{i}号"),
            location: GeoPoint::new(117.0, 31.0).expect("point"),
            floors: FLOORS,
            building_use: BuildingUse::Residential,
            units: (1..=UNITS)
                .map(|n| NewUnit {
                    number: n,
                    floors: FLOORS,
                    dwellings_per_floor: PER_FLOOR,
                })
                .collect(),
        })
        .collect();
    let ids = store.insert_buildings(new).await.expect("buildings");
    let mut dwellings = Vec::new();
    let mut doors = Vec::new();
    for (i, b) in ids.iter().enumerate() {
        for u in store.units_of_building(*b).await.expect("units") {
            for floor in 1..=FLOORS {
                for k in 1..=PER_FLOOR {
                    let door = format!("{floor}{k:02}");
                    dwellings.push(NewDwelling {
                        unit_id: u.id,
                        floor,
                        number: door.clone(),
                        dwelling_use: "own".into(),
                        area_m2: None,
                    });
                    doors.push(format!("B{i:05},{},{door}", u.number));
                }
            }
        }
    }
    store.insert_dwellings(dwellings).await.expect("dwellings");
    let (_, password) = app
        .create_user(
            None,
            UserSpec {
                username: format!("sec-{name}"),
                display_name: "书记".into(),
                role: Role::CommunitySecretary,
                scopes: vec![(ScopeKind::Community, community)],
            },
        )
        .await
        .expect("user");
    let token = app
        .login(&format!("sec-{name}"), &password, None)
        .await
        .expect("login")
        .token;
    let actor = app.authenticate(&token).await.expect("session").actor;
    (app, store, actor, doors)
}

/// `rows` residents, three to a dwelling, as CSV with the template's headers.
fn csv(rows: usize, doors: &[String]) -> String {
    let mut out = String::with_capacity(rows * 90);
    out.push_str("姓名,身份证号,联系电话,民族,人口类型,与户主关系,政治面貌,标签,楼栋,单元,房号\n");
    for i in 0..rows {
        let first17 = format!(
            "340171{:04}{:02}{:02}{:03}",
            1940 + i % 60,
            1 + i / 60 % 12,
            1 + i / 720 % 28,
            i / 20_160 % 1000
        );
        let first17 = first17.as_str();
        let id = format!("{first17}{}", check_char(first17.as_bytes()) as char);
        let name = format!(
            "{}{}{}",
            SURNAMES[i % 16],
            GIVEN[i / 16 % 16],
            GIVEN[i / 256 % 16]
        );
        let phone = if i % 2 == 0 {
            format!("139{:08}", i)
        } else {
            String::new()
        };
        let relation = ["户主", "配偶", "子女"][i % 3];
        let tags = if i % 25 == 0 { "低保" } else { "" };
        let _ = writeln!(
            out,
            "{name},{id},{phone},汉族,户籍人口,{relation},群众,{tags},{}",
            doors[i / 3]
        );
    }
    out
}

/// The same rows inserted raw: households and residents already encrypted,
/// with their search documents (tokens made beforehand) indexed as the
/// store's writer indexes them, batched in one transaction: the database's
/// share of the import.
async fn raw(
    app: &App,
    store: &SqliteStore,
    actor: &wangge_core::policy::Actor,
    file: &[u8],
    path: &std::path::Path,
) -> f64 {
    // Prepare the rows through a dry run's checks, then build them as the
    // import does, outside the timing.
    let _ = (app, actor, store);
    let table = wangge_sheets::read(file, Default::default()).expect("table");
    let vault = Vault::from_master_key(&[7; 32]);
    let mut prepared = Vec::with_capacity(table.rows.len());
    for r in &table.rows[1..] {
        let id_cipher = vault.encrypt("resident.id_number", &r[1]).expect("enc");
        let blind = vault.blind_index("resident.id_number", &r[1]);
        let phone =
            (!r[2].is_empty()).then(|| vault.encrypt("resident.phone", &r[2]).expect("enc"));
        let tokens = wangge_search::document(&[&r[0]], &[]);
        let place = format!("{},{},{}", r[8], r[9], r[10]);
        let address = format!("测试路{}号{}单元{}室", r[8], r[9], r[10]);
        let address_tokens = wangge_search::document(&[], &[&address]);
        prepared.push((
            r[0].clone(),
            id_cipher,
            blind,
            phone,
            tokens,
            place,
            address,
            address_tokens,
        ));
    }
    let mut conn = rusqlite::Connection::open(path).expect("open");
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        .expect("pragmas");
    let grid: i64 = conn
        .query_row("SELECT id FROM grids ORDER BY id LIMIT 1", [], |r| r.get(0))
        .expect("grid");
    let t = Instant::now();
    let tx = conn.transaction().expect("tx");
    {
        let mut hh = tx
            .prepare("INSERT INTO households (grid_id, dwelling_id, address, created_at, updated_at) VALUES (?1, NULL, ?2, 0, 0) RETURNING id")
            .expect("prepare");
        let mut rs = tx
            .prepare("INSERT INTO residents (household_id, grid_id, name, gender, birth_date, id_cipher, id_blind, id_masked, phone_cipher, phone_masked, ethnicity, residence_type, relation, political_status, tags, created_at, updated_at) \
                      VALUES (?1, ?2, ?3, 'male', '1980-01-01', ?4, ?5, '340***********0000', ?6, NULL, '汉族', 'registered', 'head', 'masses', '[]', 0, 0) RETURNING id")
            .expect("prepare");
        let mut docs = tx
            .prepare("INSERT INTO search_docs (kind, record_id, grid_id, born, title, detail, tokens) VALUES ('resident', ?1, ?2, '1980-01-01', ?3, '', ?4)")
            .expect("prepare");
        let mut hdocs = tx
            .prepare("INSERT INTO search_docs (kind, record_id, grid_id, born, title, detail, tokens) VALUES ('household', ?1, ?2, NULL, ?3, '', ?4)")
            .expect("prepare");
        let mut household = 0i64;
        let mut last = String::new();
        for (name, id_cipher, blind, phone, tokens, place, address, address_tokens) in &prepared {
            if *place != last {
                household = hh
                    .query_row(params![grid, address], |r| r.get(0))
                    .expect("household");
                hdocs
                    .execute(params![household, grid, address, address_tokens])
                    .expect("household doc");
                last = place.clone();
            }
            let rid: i64 = rs
                .query_row(
                    params![household, grid, name, id_cipher, blind, phone],
                    |r| r.get(0),
                )
                .expect("resident");
            docs.execute(params![rid, grid, name, tokens]).expect("doc");
        }
    }
    tx.execute_batch(wangge_store::sqlite::SEARCH_FLUSH)
        .expect("index");
    tx.commit().expect("commit");
    prepared.len() as f64 / t.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let sizes: Vec<usize> = std::env::var("WANGGE_BENCH_IMPORT_ROWS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000]);
    println!(
        "import: residents from CSV into SQLite (WAL, synchronous=FULL), all or nothing, three a dwelling"
    );
    let mut summary = Vec::new();
    for rows in sizes {
        let (app, store, actor, doors) = register(rows, &format!("i{rows}")).await;
        let file = csv(rows, &doors);
        let t = Instant::now();
        // When each phase began, from the import's own progress reports.
        let phases: std::sync::Mutex<Vec<(String, f64)>> = Default::default();
        let progress = |phase: &str, _: usize, _: usize| {
            if let Ok(mut p) = phases.lock() {
                if p.last().is_none_or(|(last, _)| last != phase) {
                    p.push((phase.to_owned(), t.elapsed().as_secs_f64()));
                }
            }
        };
        let report = app
            .import_residents(
                &actor,
                file.as_bytes(),
                ImportMode::AllOrNothing,
                Some(&progress),
            )
            .await
            .expect("import");
        let secs = t.elapsed().as_secs_f64();
        let phases = phases.into_inner().unwrap_or_default();
        let split: Vec<String> = phases
            .iter()
            .zip(phases.iter().skip(1).map(|(_, at)| *at).chain([secs]))
            .map(|((name, from), to)| format!("{name} {:.2}s", to - from))
            .collect();
        println!("          phases: {}", split.join(", "));
        assert!(
            report.errors.is_empty(),
            "{:?}",
            &report.errors[..report.errors.len().min(3)]
        );
        assert_eq!(report.imported, rows);
        let rate = rows as f64 / secs;
        drop(app);
        drop(store);
        let (app2, store2, actor2, _) = register(rows, &format!("r{rows}")).await;
        let raw_rate = raw(
            &app2,
            &store2,
            &actor2,
            file.as_bytes(),
            &temp_path(&format!("r{rows}")),
        )
        .await;
        println!(
            "{:<9} rows  import {:>9.0} rows/s ({:.1} s)   raw batched insert {:>9.0} rows/s   import/raw {:.2}x",
            rows,
            rate,
            secs,
            raw_rate,
            rate / raw_rate
        );
        summary.push(format!("{rows}: {rate:.0}/s = {:.2}x raw", rate / raw_rate));
    }
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("wangge-bench-import-{}", std::process::id())),
    );
    println!("summary: import {}", summary.join("; "));
}
