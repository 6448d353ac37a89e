//! Spreadsheet import and export over HTTP on both backends: a file with
//! every kind of error, dry run, all-or-nothing atomicity, valid rows with
//! the rejected ones given back, formula injection, and an export → import
//! round trip into a fresh register that reproduces it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use wangge_app::sheets::ImportMode;
use wangge_app::{App, FixedClock, UserSpec, Vault};
use wangge_core::idnumber::check_char;
use wangge_core::policy::Role;
use wangge_store::Backend;
use wangge_store::{NewDwelling, ScopeKind};
use wangge_testkit::{TestDb, both_backends};

use crate::field::{OTHER, SECRETARY, WORKER, World, world};

fn id_number(first17: &str) -> String {
    format!("{first17}{}", check_char(first17.as_bytes()) as char)
}

impl World {
    async fn send_bytes(
        &self,
        user: &str,
        method: Method,
        uri: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        let req = Request::builder()
            .method(method)
            .uri(uri)
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.tokens[user]),
            )
            .body(Body::from(body))
            .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        (
            status,
            res.into_body().collect().await.unwrap().to_bytes().to_vec(),
        )
    }

    async fn import(&self, csv: &str, mode: &str) -> Value {
        let (s, body) = self
            .send_bytes(
                WORKER,
                Method::POST,
                &format!("/api/v1/import/residents?mode={mode}"),
                csv.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    }

    async fn resident_count(&self) -> usize {
        let (_, csv) = self
            .send_bytes(
                WORKER,
                Method::GET,
                "/api/v1/export/residents.csv",
                Vec::new(),
            )
            .await;
        wangge_sheets::read(&csv, Default::default())
            .unwrap()
            .rows
            .len()
            - 1
    }
}

/// A free dwelling of the worker's grid: `(building, unit, door)`.
async fn free_doors(w: &World, n: usize) -> Vec<(String, i64, String)> {
    let mut out = Vec::new();
    for b in w.store.buildings_of_grid(w.grid).await.unwrap() {
        for u in w.store.units_of_building(b.id).await.unwrap() {
            for d in w.store.dwellings_of_unit(u.id).await.unwrap() {
                let occupied = w
                    .households(w.grid)
                    .await
                    .iter()
                    .any(|h| h.dwelling_id == Some(d.id));
                if !occupied {
                    out.push((b.number.clone(), u.number, d.number.clone()));
                    if out.len() == n {
                        return out;
                    }
                }
            }
        }
    }
    out
}

const HEADER: &str = "姓名,身份证号,联系电话,民族,人口类型,与户主关系,政治面貌,标签,楼栋,单元,房号";

async fn imports_check_every_row_first(db: &TestDb) {
    let w = world(db).await;
    let doors = free_doors(&w, 3).await;
    let (b, u, d) = &doors[0];
    let (b2, u2, d2) = &doors[1];
    let occupied = {
        let h = &w.households(w.grid).await[0];
        let dw = h.dwelling_id.unwrap();
        let mut found = None;
        for bl in w.store.buildings_of_grid(w.grid).await.unwrap() {
            for un in w.store.units_of_building(bl.id).await.unwrap() {
                if let Some(x) = w
                    .store
                    .dwellings_of_unit(un.id)
                    .await
                    .unwrap()
                    .iter()
                    .find(|x| x.id == dw)
                {
                    found = Some((bl.number.clone(), un.number, x.number.clone()));
                }
            }
        }
        found.unwrap()
    };
    let ok1 = id_number("34017119800101101");
    let ok2 = id_number("34017119820202202");
    let ok3 = id_number("34017120100303303");
    let bad_check = {
        let good = id_number("34017119900404404");
        let last = if good.ends_with('0') { '1' } else { '0' };
        format!("{}{last}", &good[..17])
    };
    let future = id_number("34017120990101505");
    let csv = format!(
        "{HEADER}\n\
         注：必填,注：必填,,,,,,,,,\n\
         张三丰,{ok1},13900001111,汉族,户籍人口,户主,群众,低保,{b},{u},{d}\n\
         张小宝,{ok3},,汉族,户籍人口,子女,,,{b},{u},{d}\n\
         李四,{bad_check},,汉族,户籍人口,户主,,,{b2},{u2},{d2}\n\
         王五,{ok1},,汉族,户籍人口,配偶,,,{b},{u},{d}\n\
         赵六,{ok2},12345,汉族,外星人,户主,,土豪,{b2},{u2},{d2}\n\
         钱七,{future},,汉族,户籍人口,户主,,,999,1,101\n\
         ,{ok2},,汉族,户籍人口,户主,,,{b},{u},404\n\
         孙八,{ok2},,汉族,户籍人口,户主,,,{},{},{}\n",
        occupied.0, occupied.1, occupied.2
    );
    let before = w.resident_count().await;
    let dry = w.import(&csv, "dry_run").await;
    assert_eq!(
        (
            dry["rows"].as_u64(),
            dry["valid"].as_u64(),
            dry["imported"].as_u64()
        ),
        (Some(8), Some(2), Some(0)),
        "{dry}"
    );
    let errors: Vec<(u64, String, String)> = dry["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().unwrap(),
                e["column"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let has = |row: u64, column: &str, words: &str| {
        errors
            .iter()
            .any(|(r, c, m)| *r == row && c == column && m.contains(words))
    };
    // Rows as the spreadsheet numbers them: header 1, notes 2, data from 3.
    assert!(has(5, "身份证号", "校验"), "bad check digit: {errors:?}");
    assert!(
        has(6, "身份证号", "与第 3 行重复"),
        "duplicate in the file: {errors:?}"
    );
    assert!(has(7, "联系电话", ""), "bad phone: {errors:?}");
    assert!(has(7, "标签", "土豪"), "unknown tag: {errors:?}");
    assert!(
        has(8, "身份证号", "出生日期"),
        "a birth date in the future: {errors:?}"
    );
    assert!(has(8, "楼栋", "999"), "unknown building: {errors:?}");
    assert!(has(9, "姓名", ""), "missing name: {errors:?}");
    assert!(has(9, "房号", "404"), "unknown door: {errors:?}");
    assert!(
        has(10, "与户主关系", "已有户主"),
        "a second head for a household lived in: {errors:?}"
    );
    assert!(
        !errors.iter().any(|(r, _, _)| *r == 3 || *r == 4),
        "rows 3 and 4 are fine: {errors:?}"
    );
    assert_eq!(w.resident_count().await, before, "a dry run writes nothing");

    // All or nothing: one bad row, nothing written.
    let all = w.import(&csv, "all_or_nothing").await;
    assert_eq!(all["imported"], 0);
    assert_eq!(w.resident_count().await, before);

    // Valid rows only: the two good ones, one household; the rest come back.
    let valid = w.import(&csv, "valid_only").await;
    assert_eq!(
        (valid["imported"].as_u64(), valid["households"].as_u64()),
        (Some(2), Some(1)),
        "{valid}"
    );
    assert_eq!(w.resident_count().await, before + 2);
    let rejected = base64_decode(valid["rejected_csv"].as_str().unwrap());
    let table = wangge_sheets::read(&rejected, Default::default()).unwrap();
    assert_eq!(table.rows[0].last().unwrap(), "错误");
    assert_eq!(table.rows.len(), 1 + 6, "six rejected rows");
    assert!(
        table
            .rows
            .iter()
            .any(|r| r[0] == "李四" && r.last().unwrap().contains("身份证号"))
    );
    // The same file again: its IDs are now in the register.
    let again = w.import(&csv, "dry_run").await;
    assert!(
        again["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["row"] == 3 && e["message"] == "该身份证号已在登记中"),
        "{again}"
    );
    // Another community's worker has no such buildings.
    let (s, body) = w
        .send_bytes(
            OTHER,
            Method::POST,
            "/api/v1/import/residents?mode=dry_run",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let theirs: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(theirs["valid"], 0);
    // Not a spreadsheet; headers that are not ours; a bad mode.
    let (s, _) = w
        .send_bytes(
            WORKER,
            Method::POST,
            "/api/v1/import/residents",
            b"PK\x03\x04junk".to_vec(),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, body) = w
        .send_bytes(
            WORKER,
            Method::POST,
            "/api/v1/import/residents",
            "名字,年龄\n张三,3\n".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(String::from_utf8_lossy(&body).contains("年龄"));
    let (s, _) = w
        .send_bytes(
            WORKER,
            Method::POST,
            "/api/v1/import/residents?mode=maybe",
            csv.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // The upload page: a multipart form, the report with the rejected rows.
    let (_, html) = w.page(Some(WORKER), "/register/import").await;
    assert!(html.contains("下载模板"));
    let marker = r#"name="_csrf" value=""#;
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = html[start..].split('"').next().unwrap().to_owned();
    let boundary = "XBOUNDARYX";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\ndry_run\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"people.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let req = Request::post("/register/import")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(
            header::COOKIE,
            format!("wangge_session={}", w.tokens[WORKER]),
        )
        .body(Body::from(body))
        .unwrap();
    let res = w.router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page =
        String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned();
    assert!(
        page.contains("该身份证号已在登记中") && page.contains("data:text/csv;base64,"),
        "{page}"
    );
    // The templates carry the headers and the notes row.
    let (s, x) = w
        .send_bytes(
            WORKER,
            Method::GET,
            "/api/v1/import/residents/template.xlsx",
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let t = wangge_sheets::read(&x, Default::default()).unwrap();
    assert_eq!(t.rows[0].join(","), HEADER);
    assert!(t.rows[1][0].starts_with("注："));
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

async fn exports_neutralise_formulas_and_audit(db: &TestDb) {
    let w = world(db).await;
    let doors = free_doors(&w, 1).await;
    let (b, u, d) = &doors[0];
    let evil = id_number("34017119850505505");
    let csv = format!("{HEADER}\n=1+1,{evil},,汉族,户籍人口,户主,,,{b},{u},{d}\n");
    let r = w.import(&csv, "all_or_nothing").await;
    assert_eq!(r["imported"], 1, "{r}");
    for (uri, xlsx) in [
        ("/api/v1/export/residents.csv", false),
        ("/api/v1/export/residents.xlsx", true),
    ] {
        let (s, bytes) = w.send_bytes(WORKER, Method::GET, uri, Vec::new()).await;
        assert_eq!(s, StatusCode::OK);
        let table = wangge_sheets::read(&bytes, Default::default()).unwrap();
        let row = table.rows.iter().find(|r| r[0].contains("1+1")).unwrap();
        assert_eq!(row[0], "'=1+1", "xlsx {xlsx}: a formula stays text");
        assert!(row[1].contains('*'), "masked by default");
        assert!(
            table
                .rows
                .iter()
                .all(|r| !r[1].chars().all(|c| c.is_ascii_digit() || c == 'X')
                    || r[1].len() != 18
                    || r[1] == "身份证号")
        );
        if !xlsx {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(&evil),
                "no full ID in a masked export"
            );
        }
    }
    let (s, full) = w
        .send_bytes(
            WORKER,
            Method::GET,
            "/api/v1/export/residents.csv?full=1",
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(String::from_utf8_lossy(&full).contains(&evil));
    // Every export is in the audit log; full numbers as their own action.
    let audit = w.store.audit_records(0, 100_000).await.unwrap();
    assert!(
        audit
            .iter()
            .filter(|a| a.action == "register.export")
            .count()
            >= 2
    );
    assert!(audit.iter().any(|a| a.action == "register.export_full"));
    // A street officer may read but not export full numbers.
    let (s, _) = w
        .send_bytes(
            "jiedao",
            Method::GET,
            "/api/v1/export/residents.csv?full=1",
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

/// Exports a grid with full numbers, imports it into a fresh register with
/// the same buildings and dwellings, and exports that: the same sheet.
async fn an_export_imports_back_into_the_same_register(db: &TestDb) {
    let w = world(db).await;
    let (s, first) = w
        .send_bytes(
            WORKER,
            Method::GET,
            "/api/v1/export/residents.csv?full=1",
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let original = wangge_sheets::read(&first, Default::default()).unwrap();
    assert!(original.rows.len() > 100, "the demo grid has people");

    let fresh = match db.backend() {
        Backend::Sqlite => wangge_testkit::sqlite().await,
        Backend::Postgres => wangge_testkit::postgres().await.expect("PostgreSQL"),
    };
    let clock = Arc::new(FixedClock::new(w.app.now()));
    let app = App::new(fresh.store.clone(), clock, Vault::from_master_key(&[9; 32]))
        .await
        .unwrap();
    app.load_demo_geography().await.unwrap();
    // The same dwellings, by building, unit and door.
    let mut new = Vec::new();
    for b in w.store.all_buildings().await.unwrap() {
        let theirs = fresh
            .store
            .all_buildings()
            .await
            .unwrap()
            .into_iter()
            .find(|x| x.community_id == b.community_id && x.number == b.number)
            .unwrap();
        let their_units = fresh.store.units_of_building(theirs.id).await.unwrap();
        for u in w.store.units_of_building(b.id).await.unwrap() {
            let tu = their_units.iter().find(|x| x.number == u.number).unwrap();
            for d in w.store.dwellings_of_unit(u.id).await.unwrap() {
                new.push(NewDwelling {
                    unit_id: tu.id,
                    floor: d.floor,
                    number: d.number.clone(),
                    dwelling_use: d.dwelling_use.as_str().into(),
                    area_m2: d.area_m2,
                });
            }
        }
    }
    fresh.store.insert_dwellings(new).await.unwrap();
    let (_, password) = app
        .create_user(
            None,
            UserSpec {
                username: "importer".into(),
                display_name: "导入员".into(),
                role: Role::GridWorker,
                scopes: vec![(ScopeKind::Grid, w.grid)],
            },
        )
        .await
        .unwrap();
    let token = app.login("importer", &password, None).await.unwrap().token;
    let actor = app.authenticate(&token).await.unwrap().actor;
    let report = app
        .import_residents(&actor, &first, ImportMode::AllOrNothing, None)
        .await
        .unwrap();
    assert!(
        report.errors.is_empty(),
        "{:?}",
        &report.errors[..report.errors.len().min(5)]
    );
    assert_eq!(report.imported, original.rows.len() - 1);
    let again = app
        .export_residents(&actor, None, true, false)
        .await
        .unwrap();
    let reproduced = wangge_sheets::read(&again, Default::default()).unwrap();
    assert_eq!(reproduced.rows, original.rows);
    fresh.cleanup().await;
}

both_backends!(
    imports_check_every_row_first,
    exports_neutralise_formulas_and_audit,
    an_export_imports_back_into_the_same_register,
    businesses_import_and_export,
    buildings_import_first_then_people_move_in,
    every_list_exports,
);

const BUSINESS_HEADER: &str = "名称,统一社会信用代码,法定代表人,联系电话,地址,开业日期,经营状态,政务App注册,未注册原因,说明,楼栋";

fn credit_code(first17: &str) -> String {
    format!(
        "{first17}{}",
        wangge_core::creditcode::check_char(first17.as_bytes()).unwrap() as char
    )
}

async fn businesses_import_and_export(db: &TestDb) {
    let w = world(db).await;
    let b = w.store.buildings_of_grid(w.grid).await.unwrap()[0]
        .number
        .clone();
    let good = credit_code("91340100MA2N0X123");
    let also = credit_code("91340100MA2N0X456");
    let bad = {
        let c = credit_code("91340100MA2N0X789");
        let last = if c.ends_with('0') { '1' } else { '0' };
        format!("{}{last}", &c[..17])
    };
    let csv = format!(
        "{BUSINESS_HEADER}\n\
         好再来面馆,{good},王建国,13900001234,和平路26号,2026/10/08,在营,无法注册,身份证刚换领，需到服务窗口办理,=HYPERLINK(\"x\"),{b}\n\
         老王修鞋,{also},王老五,,和平路28号,2026-11-01,,,,,{b}\n\
         假商户,{bad},李某,,和平路30号,2026-11-01,,,,,{b}\n\
         重复面馆,{good},王建国,,和平路26号,昨天,,,,,999\n"
    );
    let (s, body) = w
        .send_bytes(
            WORKER,
            Method::POST,
            "/api/v1/import/businesses?mode=valid_only",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let r: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (r["imported"].as_u64(), r["valid"].as_u64()),
        (Some(2), Some(2)),
        "{r}"
    );
    let rows: Vec<u64> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["row"].as_u64().unwrap())
        .collect();
    assert!(rows.contains(&4) && rows.contains(&5), "{r}");
    let (s, x) = w
        .send_bytes(
            WORKER,
            Method::GET,
            "/api/v1/export/businesses.xlsx",
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let t = wangge_sheets::read(&x, Default::default()).unwrap();
    let mine = t.rows.iter().find(|r| r[0] == "好再来面馆").unwrap();
    assert_eq!(mine[3], "139****1234", "masked phone");
    assert_eq!(mine[7], "无法注册");
    assert!(
        mine[9].starts_with('\''),
        "a formula stays text: {}",
        mine[9]
    );
    let (s, cases) = w
        .send_bytes(WORKER, Method::GET, "/api/v1/export/cases.csv", Vec::new())
        .await;
    assert_eq!(s, StatusCode::OK);
    let t = wangge_sheets::read(&cases, Default::default()).unwrap();
    assert_eq!(t.rows[0][0], "编号");
    let (s, _) = w
        .send_bytes(WORKER, Method::GET, "/api/v1/export/cases.pdf", Vec::new())
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// `(row, the error's column or message)` of an import report.
fn row_errors(report: &Value, what: &str) -> Vec<(i64, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e[what].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const BUILDING_HEADER: &str = "楼栋号,名称,地址,经度,纬度,层数,用途,单元数,每层户数,网格";

/// A buildings sheet with every kind of error beside one good row; the
/// good building gets every dwelling, and residents can then be imported
/// into it.
async fn buildings_import_first_then_people_move_in(db: &TestDb) {
    let w = world(db).await;
    let ours = w.store.buildings_of_grid(w.grid).await.unwrap();
    let (lon, lat) = (
        ours[0].location.lon + 0.00002,
        ours[0].location.lat + 0.00002,
    );
    let theirs = &w.store.buildings_of_grid(w.other_grid).await.unwrap()[0];
    let grid_name = w.store.grid(w.grid).await.unwrap().unwrap().grid.name;
    let other_name = w.store.grid(w.other_grid).await.unwrap().unwrap().grid.name;
    let taken = &ours[0].number;
    let csv = format!(
        "{BUILDING_HEADER}\n\
         注：必填,,,,,,,,,\n\
         88栋,,和平路 88 号,{lon},{lat},6,住宅,2,2,{grid_name}\n\
         {taken},,,{lon},{lat},6,住宅,1,2,\n\
         89,,,{},{},6,住宅,1,2,\n\
         88,,,{lon},{lat},6,住宅,1,2,\n\
         90,,,{lon},{lat},0,仓库,1,2,\n\
         91,,,{lon},{lat},6,商住,1,2,{other_name}\n\
         92,,,东经,{lat},6,,1,2,\n",
        theirs.location.lon, theirs.location.lat
    );
    let send = |mode: &'static str| {
        let csv = csv.clone();
        let w = &w;
        async move {
            let (s, body) = w
                .send_bytes(
                    WORKER,
                    Method::POST,
                    &format!("/api/v1/import/buildings?mode={mode}"),
                    csv.into_bytes(),
                )
                .await;
            assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
            serde_json::from_slice::<Value>(&body).unwrap()
        }
    };
    let before = w.store.all_buildings().await.unwrap().len();
    let r = send("dry_run").await;
    let errors = row_errors(&r, "column");
    assert_eq!(
        errors,
        [
            (4, "楼栋号".to_owned()),
            (5, "经度".to_owned()),
            (6, "楼栋号".to_owned()),
            (7, "用途".to_owned()),
            (7, "层数".to_owned()),
            (8, "网格".to_owned()),
            (9, "经度".to_owned()),
        ],
        "{r}"
    );
    assert_eq!(
        (r["rows"].as_i64(), r["valid"].as_i64()),
        (Some(7), Some(1))
    );
    assert!(
        r["errors"][2]["message"]
            .as_str()
            .unwrap()
            .contains("第 3 行"),
        "{r}"
    );
    assert_eq!(
        w.store.all_buildings().await.unwrap().len(),
        before,
        "a dry run writes nothing"
    );
    assert_eq!(send("all_or_nothing").await["imported"], 0);
    assert_eq!(w.store.all_buildings().await.unwrap().len(), before);
    let r = send("valid_only").await;
    assert_eq!(r["imported"], 1, "{r}");
    let rejected = base64_decode(r["rejected_csv"].as_str().unwrap());
    let t = wangge_sheets::read(&rejected, Default::default()).unwrap();
    assert_eq!(t.rows.len(), 1 + 6);
    assert_eq!(t.rows[0].last().unwrap(), "错误");
    // Building 88 stands in her grid with 2 units of 6 floors, 2 doors each.
    let b = w
        .store
        .buildings_of_grid(w.grid)
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.number == "88")
        .expect("building 88");
    assert_eq!((b.name.as_str(), b.floors), ("88栋", 6));
    let units = w.store.units_of_building(b.id).await.unwrap();
    assert_eq!(units.len(), 2);
    let doors: Vec<String> = w
        .store
        .dwellings_of_unit(units[1].id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.number)
        .collect();
    assert_eq!(doors.len(), 12);
    assert!(doors.contains(&"101".to_owned()) && doors.contains(&"602".to_owned()));
    // Residents move in.
    let r = w
        .import(
            &format!(
                "{HEADER}\n李新楼,{},,汉族,户籍人口,户主,,,88,2,602\n",
                id_number("34017119800101888")
            ),
            "all_or_nothing",
        )
        .await;
    assert_eq!(
        (r["imported"].as_i64(), r["households"].as_i64()),
        (Some(1), Some(1)),
        "{r}"
    );
    // A later sheet for the same door: the spouse and child join the
    // household; a second head, in the file or beside the register's, not.
    let r = w
        .import(
            &format!(
                "{HEADER}\n\
                 王新楼,{},,汉族,户籍人口,配偶,,,88,2,602\n\
                 李小楼,{},,汉族,户籍人口,子女,,,88,2,602\n\
                 张另户,{},,汉族,户籍人口,户主,,,88,2,602\n\
                 赵一,{},,汉族,户籍人口,户主,,,88,2,601\n\
                 赵二,{},,汉族,户籍人口,户主,,,88,2,601\n",
                id_number("34017119810202888"),
                id_number("34017119950303888"),
                id_number("34017119700404888"),
                id_number("34017119700505888"),
                id_number("34017119700606888"),
            ),
            "valid_only",
        )
        .await;
    assert_eq!(
        (r["imported"].as_i64(), r["households"].as_i64()),
        (Some(3), Some(1)),
        "{r}"
    );
    let errors = row_errors(&r, "message");
    assert_eq!(errors.len(), 2, "{r}");
    assert_eq!(errors[0].0, 4);
    assert!(errors[0].1.contains("已有户主"), "{r}");
    assert_eq!(errors[1], (6, "与第 5 行同为户主".to_owned()), "{r}");
    let home = w
        .households(w.grid)
        .await
        .into_iter()
        .find(|h| h.address == "和平路 88 号2单元602室")
        .expect("the household at 602");
    assert_eq!(home.member_count, 3);
    let audit = w.store.audit_records(0, 100_000).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "register.import" && a.record_kind == "building")
    );
    // Another community's worker cannot place a building in this grid.
    let (s, body) = w
        .send_bytes(
            OTHER,
            Method::POST,
            "/api/v1/import/buildings?mode=valid_only",
            format!("{BUILDING_HEADER}\n93,,,{lon},{lat},6,,1,2,\n").into_bytes(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let r: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (r["imported"].as_i64(), r["errors"][0]["column"].as_str()),
        (Some(0), Some("经度"))
    );
    // The template, and unknown sheets.
    let (s, t) = w
        .send_bytes(
            WORKER,
            Method::GET,
            "/api/v1/import/buildings/template.csv",
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let t = wangge_sheets::read(&t, Default::default()).unwrap();
    assert_eq!(t.rows[0].join(","), BUILDING_HEADER);
    assert!(t.rows[1].iter().all(|c| c.starts_with("注：")));
    let (s, _) = w
        .send_bytes(WORKER, Method::POST, "/api/v1/import/aliens", Vec::new())
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// Households, buildings, visits and referrals export as sheets of what
/// the worker sees, audited; the buildings sheet imports as it is.
async fn every_list_exports(db: &TestDb) {
    let w = world(db).await;
    let get = |uri: &'static str, user: &'static str| {
        let w = &w;
        async move {
            let (s, bytes) = w.send_bytes(user, Method::GET, uri, Vec::new()).await;
            assert_eq!(
                s,
                StatusCode::OK,
                "{uri}: {}",
                String::from_utf8_lossy(&bytes)
            );
            wangge_sheets::read(&bytes, Default::default())
                .unwrap()
                .rows
        }
    };
    let households = get("/api/v1/export/households.xlsx", WORKER).await;
    assert_eq!(households[0], ["地址", "网格", "户主", "人数"]);
    assert_eq!(households.len() - 1, w.households(w.grid).await.len());
    let buildings = get("/api/v1/export/buildings.csv", WORKER).await;
    let ours = w.store.buildings_of_grid(w.grid).await.unwrap();
    assert_eq!(buildings.len() - 1, ours.len());
    assert!(buildings.iter().any(|r| r[0] == ours[0].number));
    // The buildings sheet reads back through the import: every building
    // is already there, and said so.
    let csv = wangge_sheets::write_csv(&buildings);
    let (s, body) = w
        .send_bytes(WORKER, Method::POST, "/api/v1/import/buildings", csv)
        .await;
    assert_eq!(s, StatusCode::OK);
    let r: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(r["errors"].as_array().unwrap().len(), ours.len(), "{r}");
    assert!(
        r["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["message"].as_str().unwrap().starts_with("本社区已有")),
        "{r}"
    );
    // A visit whose need becomes a referral.
    let household = w.households(w.grid).await[0].id;
    w.ok(
        WORKER,
        Method::POST,
        "/api/v1/visits",
        Some(serde_json::json!({
            "household_id": household, "mode": "home", "situation": "=HYPERLINK(\"x\")",
            "needs": [{ "kind": "employment", "detail": "想在附近做钟点工", "programme": "community_jobs" }]
        })),
    )
    .await;
    let visits = get("/api/v1/export/visits.xlsx", WORKER).await;
    assert_eq!(visits[0][0], "走访时间");
    assert_eq!(visits.len(), 2, "{visits:?}");
    assert_eq!(visits[1][7], "'=HYPERLINK(\"x\")", "a formula stays text");
    assert!(visits[1][8].contains("钟点工"));
    let referrals = get("/api/v1/export/referrals.csv", WORKER).await;
    assert_eq!(referrals[0][4], "帮扶项目");
    assert_eq!(referrals.len(), 2);
    assert_eq!(referrals[1][5], "想在附近做钟点工");
    assert!(get("/api/v1/export/referrals.csv", OTHER).await.len() == 1);
    // Another community's worker sees none of these households.
    let theirs = get("/api/v1/export/households.csv", OTHER).await;
    let mine: std::collections::HashSet<&String> =
        households.iter().skip(1).map(|r| &r[0]).collect();
    assert!(theirs.iter().skip(1).all(|r| !mine.contains(&r[0])));
    // An opinion she wrote down, as the opinions sheet shows it.
    w.ok(
        WORKER,
        Method::POST,
        "/api/v1/opinions",
        Some(serde_json::json!({ "topic": "environment", "body": "希望在12栋旁边增设垃圾分类点", "voiced_by": "12栋居民" })),
    )
    .await;
    let opinions = get("/api/v1/export/opinions.csv", WORKER).await;
    assert_eq!(opinions[0][3], "内容");
    assert!(
        opinions
            .iter()
            .any(|r| r[3] == "希望在12栋旁边增设垃圾分类点" && r[4] == "12栋居民")
    );
    assert!(
        get("/api/v1/export/opinions.csv", OTHER)
            .await
            .iter()
            .skip(1)
            .all(|r| r[3] != "希望在12栋旁边增设垃圾分类点")
    );
    // A campaign's targets: what the worker's checklist shows, door to door.
    let drill = w
        .ok(
            SECRETARY,
            Method::POST,
            "/api/v1/campaigns",
            Some(serde_json::json!({
                "template": "drill_pre_registration", "starts_on": "2026-11-25", "ends_on": "2026-12-31",
                "filter": { "min_age": 60, "without_phone": true }
            })),
        )
        .await;
    let id = drill["campaign"]["id"].as_i64().unwrap();
    let (s, listed) = w
        .send_bytes(
            WORKER,
            Method::GET,
            &format!("/api/v1/campaigns/{id}/targets"),
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let listed: Value = serde_json::from_slice(&listed).unwrap();
    let listed = listed.as_array().unwrap();
    let (s, bytes) = w
        .send_bytes(
            WORKER,
            Method::GET,
            &format!("/api/v1/export/campaigns/{id}/targets.xlsx"),
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let targets = wangge_sheets::read(&bytes, Default::default())
        .unwrap()
        .rows;
    assert_eq!(targets[0][..3], ["位置", "对象", "状态"]);
    assert_eq!(targets.len() - 1, listed.len());
    assert!(!listed.is_empty());
    assert_eq!(targets[1][1], listed[0]["label"].as_str().unwrap());
    let (s, _) = w
        .send_bytes(
            OTHER,
            Method::GET,
            &format!("/api/v1/export/campaigns/{id}/targets.csv"),
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another community's campaign");
    let audit = w.store.audit_records(0, 100_000).await.unwrap();
    for (action, record) in [
        ("register.export", "household"),
        ("register.export", "building"),
        ("visits.export", "visit"),
        ("referrals.export", "referral"),
        ("campaign.export", "campaign"),
        ("opinions.export", "opinion"),
    ] {
        assert!(
            audit
                .iter()
                .any(|a| a.action == action && a.record_kind == record),
            "{action} {record}"
        );
    }
    let (s, _) = w
        .send_bytes(
            WORKER,
            Method::GET,
            "/api/v1/export/visits.csv?from=yesterday",
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}
