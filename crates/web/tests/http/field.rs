//! Field work over HTTP on both backends, on the demo register: patrols
//! with idempotent tracks, the visit scheduler on a fixed clock, referrals,
//! campaign targeting and scope, QR cards printed and scanned, opinions and
//! notices.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tower::ServiceExt;
use wangge_app::{App, FixedClock, Vault};
use wangge_core::register::BusinessStatus;
use wangge_store::{BusinessQuery, ResidentQuery, ScopeFilter, Store};
use wangge_testkit::{TestDb, both_backends};

pub(crate) struct World {
    pub(crate) router: Router,
    pub(crate) app: Arc<App>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) tokens: HashMap<String, String>,
    pub(crate) passwords: HashMap<String, String>,
    pub(crate) clock: Arc<FixedClock>,
    /// The demo grid worker's grid (和平社区第二网格) and another community's grid.
    pub(crate) grid: i64,
    pub(crate) other_grid: i64,
}

/// Monday 30 November 2026, 09:00 China time.
const NOW: &str = "2026-11-30T01:00:00Z";

pub(crate) async fn world(db: &TestDb) -> World {
    let clock = Arc::new(FixedClock::new(NOW.parse().unwrap()));
    let app = App::new(
        db.store.clone(),
        clock.clone(),
        Vault::from_master_key(&[7; 32]),
    )
    .await
    .unwrap();
    app.load_demo_geography().await.unwrap();
    let people = app.load_demo_people().await.unwrap();
    let mut tokens = HashMap::new();
    let mut passwords = HashMap::new();
    for a in &people.accounts {
        let token = app
            .login(&a.username, &a.password, None)
            .await
            .unwrap()
            .token;
        tokens.insert(a.username.clone(), token);
        passwords.insert(a.username.clone(), a.password.clone());
    }
    let user = db.store.user_by_username(WORKER).await.unwrap().unwrap();
    let grid = user.scopes[0].1;
    let other = db.store.user_by_username(OTHER).await.unwrap().unwrap();
    World {
        router: wangge_web::router(app.clone()),
        app,
        store: db.store.clone(),
        tokens,
        passwords,
        clock,
        grid,
        other_grid: other.scopes[0].1,
    }
}

pub(crate) const WORKER: &str = "wangge.heping02";
pub(crate) const OTHER: &str = "wangge.chunhui01";
pub(crate) const UNIT_LEADER: &str = "danyuanzhang.heping02";
pub(crate) const VOLUNTEER: &str = "zhiyuanzhe.heping02";
pub(crate) const SECRETARY: &str = "shuji.heping";
pub(crate) const RESIDENT: &str = "jumin.demo";

impl World {
    async fn send(
        &self,
        user: Option<&str>,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Vec<u8>) {
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "wangge.test");
        if let Some(u) = user {
            req = req.header(header::AUTHORIZATION, format!("Bearer {}", self.tokens[u]));
        }
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let res = self
            .router
            .clone()
            .oneshot(req.body(body).unwrap())
            .await
            .unwrap();
        let status = res.status();
        (
            status,
            res.into_body().collect().await.unwrap().to_bytes().to_vec(),
        )
    }

    pub(crate) async fn call(
        &self,
        user: &str,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let (s, bytes) = self.send(Some(user), method, uri, body).await;
        (s, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    pub(crate) async fn ok(
        &self,
        user: &str,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> Value {
        let (s, v) = self.call(user, method.clone(), uri, body).await;
        assert!(s.is_success(), "{user} {method} {uri}: {s} {v}");
        v
    }

    /// Moves the clock on; everyone signs in again (idle sessions end).
    async fn advance(&mut self, d: SignedDuration) {
        self.clock.set(self.app.now() + d);
        for (user, password) in &self.passwords {
            let token = self.app.login(user, password, None).await.unwrap().token;
            self.tokens.insert(user.clone(), token);
        }
    }

    /// Households of a grid, through the register.
    pub(crate) async fn households(&self, grid: i64) -> Vec<wangge_core::register::Household> {
        self.store
            .households(
                &ScopeFilter::grids(vec![grid]),
                wangge_store::HouseholdQuery {
                    grid_id: Some(grid),
                    unit_id: None,
                    limit: 10_000,
                    offset: 0,
                },
            )
            .await
            .unwrap()
    }
}

fn fix(seq: i64, at: Timestamp, lat: f64, lon: f64) -> Value {
    json!({ "seq": seq, "at": at, "lat": lat, "lon": lon, "accuracy": 8.0 })
}

async fn patrols_keep_tracks_once_and_link_their_work(db: &TestDb) {
    let mut w = world(db).await;
    let now = w.app.now();
    let p = w
        .ok(
            WORKER,
            Method::POST,
            "/api/v1/patrols",
            Some(json!({ "note": "早班巡查" })),
        )
        .await;
    let id = p["id"].as_i64().unwrap();
    assert_eq!(p["grid_id"], w.grid);
    let (s, again) = w
        .call(WORKER, Method::POST, "/api/v1/patrols", Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["error"]["code"], "not_now");
    assert_eq!(again["error"]["message"], "您有一次巡查尚未结束，请先结束");

    // ~111 m north for each 0.001° of latitude, a fix every 100 s.
    let at = |s: i64| now + SignedDuration::from_secs(s);
    let batch = json!({ "points": [fix(0, at(0), 31.000, 117.0), fix(1, at(100), 31.001, 117.0), fix(2, at(200), 31.002, 117.0)] });
    let uri = format!("/api/v1/patrols/{id}/track");
    w.advance(SignedDuration::from_mins(10)).await;
    let r = w.ok(WORKER, Method::POST, &uri, Some(batch.clone())).await;
    assert_eq!(
        (r["accepted"].as_i64(), r["points"].as_i64()),
        (Some(3), Some(3))
    );
    // The answer was lost; the phone sends the batch again: nothing twice.
    let r = w.ok(WORKER, Method::POST, &uri, Some(batch)).await;
    assert_eq!(
        (r["accepted"].as_i64(), r["points"].as_i64()),
        (Some(0), Some(3))
    );
    // An overlapping batch adds only what is new.
    let r = w
        .ok(WORKER, Method::POST, &uri, Some(json!({ "points": [fix(2, at(200), 31.002, 117.0), fix(3, at(300), 31.003, 117.0)] })))
        .await;
    assert_eq!(
        (r["accepted"].as_i64(), r["points"].as_i64()),
        (Some(1), Some(4))
    );
    let d = r["distance_m"].as_f64().unwrap();
    assert!((d - 333.6).abs() < 1.0, "{d}");
    // A fix from tomorrow is refused, with nothing of the batch kept.
    let (s, e) = w
        .call(WORKER, Method::POST, &uri, Some(json!({ "points": [fix(4, at(400), 31.004, 117.0), fix(5, at(90_000), 31.0, 117.0)] })))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(
        w.ok(WORKER, Method::GET, &format!("/api/v1/patrols/{id}"), None)
            .await["track"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    // Someone else's patrol takes no fixes.
    let (s, _) = w
        .call(OTHER, Method::POST, &uri, Some(json!({ "points": [] })))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A case reported on the patrol is linked to it.
    let household = &w.households(w.grid).await[0];
    let building = w.store.buildings_of_grid(w.grid).await.unwrap()[0].clone();
    let (s, case) = w
        .call(
            WORKER,
            Method::POST,
            "/api/v1/cases",
            Some(json!({
                "category": "E0101", "description": "楼下暴露垃圾", "lat": building.location.lat,
                "lon": building.location.lon, "patrol_id": id,
            })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    // Check-ins: a household of her grid; not one of another grid.
    let (s, _) = w
        .call(
            WORKER,
            Method::POST,
            "/api/v1/checkins",
            Some(json!({ "patrol_id": id, "household_id": household.id })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let foreign = &w.households(w.other_grid).await[0];
    let (s, _) = w
        .call(
            WORKER,
            Method::POST,
            "/api/v1/checkins",
            Some(json!({ "household_id": foreign.id })),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = w
        .call(
            WORKER,
            Method::POST,
            "/api/v1/checkins",
            Some(json!({ "household_id": household.id, "business_id": 1 })),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // A safety check with a failed item, reported as a case.
    let shop = w
        .store
        .businesses(
            &ScopeFilter::grids(vec![w.grid]),
            BusinessQuery {
                grid_id: Some(w.grid),
                limit: 100,
                offset: 0,
            },
        )
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.status == BusinessStatus::Open)
        .expect("an open business in the grid");
    let answers = |failed_note: &str| {
        json!(
            [
                "extinguishers",
                "exits",
                "wiring",
                "gas",
                "flammables",
                "no_lodging"
            ]
            .iter()
            .map(|i| if *i == "exits" {
                json!({ "item": i, "result": "fail", "note": failed_note })
            } else {
                json!({ "item": i, "result": "pass" })
            })
            .collect::<Vec<_>>()
        )
    };
    let uri = format!("/api/v1/businesses/{}/inspections", shop.id);
    let (s, e) = w
        .call(
            WORKER,
            Method::POST,
            &uri,
            Some(json!({ "answers": answers(""), "patrol_id": id, "report_failures": true })),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        e["error"]["message"],
        "检查项“安全出口、疏散通道畅通”不合格，请写明问题"
    );
    let inspection = w
        .ok(WORKER, Method::POST, &uri, Some(json!({ "answers": answers("后门堆放纸箱"), "patrol_id": id, "report_failures": true })))
        .await;
    assert_eq!(inspection["failed"], 1);
    let hazard = inspection["case_ids"][0].as_i64().unwrap();
    let hazard_case = w
        .ok(
            WORKER,
            Method::GET,
            &format!("/api/v1/cases/{hazard}"),
            None,
        )
        .await;
    assert_eq!(hazard_case["category_code"], "C02");
    assert!(
        hazard_case["description"]
            .as_str()
            .unwrap()
            .contains("后门堆放纸箱")
    );
    let list = w.ok(WORKER, Method::GET, &uri, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);

    w.advance(SignedDuration::from_mins(50)).await;
    let ended = w
        .ok(
            WORKER,
            Method::POST,
            &format!("/api/v1/patrols/{id}/end"),
            None,
        )
        .await;
    assert!(ended["ended_at"].is_string());
    let (s, _) = w
        .call(
            WORKER,
            Method::POST,
            &format!("/api/v1/patrols/{id}/end"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let detail = w
        .ok(WORKER, Method::GET, &format!("/api/v1/patrols/{id}"), None)
        .await;
    let mut linked: Vec<i64> = detail["case_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_i64().unwrap())
        .collect();
    linked.sort();
    let mut want = vec![case["id"].as_i64().unwrap(), hazard];
    want.sort();
    assert_eq!(linked, want);
    assert_eq!(detail["checkins"][0]["place"], household.address.as_str());
    // Another community's worker does not see it.
    let (s, _) = w
        .call(OTHER, Method::GET, &format!("/api/v1/patrols/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let f = w
        .ok(WORKER, Method::GET, "/api/v1/field/figures", None)
        .await;
    let mine = &f["patrols"]["workers"][0];
    assert_eq!(
        (
            mine["patrols"].as_i64(),
            mine["days"].as_i64(),
            mine["minutes"].as_i64()
        ),
        (Some(1), Some(1), Some(60))
    );
    let cov = &f["patrols"]["coverage"][0];
    assert_eq!(cov["grid_id"], w.grid);
    assert_eq!(cov["households_visited"], 1);
    assert_eq!(cov["businesses_visited"], 1);
    assert_eq!(
        cov["households"].as_i64().unwrap(),
        w.households(w.grid).await.len() as i64
    );
    // Unit leaders and residents do no patrols.
    for who in [UNIT_LEADER, RESIDENT] {
        let (s, _) = w
            .call(who, Method::POST, "/api/v1/patrols", Some(json!({})))
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");
    }
}

/// The household's schedule on the worker's list, if it is listed.
async fn on_list(w: &World, user: &str, household: i64) -> Option<Value> {
    let list = w
        .ok(user, Method::GET, "/api/v1/care-list?status=all", None)
        .await;
    list.as_array()
        .unwrap()
        .iter()
        .find(|i| i["household_id"] == household)
        .cloned()
}

async fn visits_follow_major_changes_moves_and_needs(db: &TestDb) {
    let mut w = world(db).await;
    let household = w
        .households(w.grid)
        .await
        .into_iter()
        .find(|h| h.member_count >= 2)
        .unwrap();
    let member = w
        .store
        .residents(
            &ScopeFilter::grids(vec![w.grid]),
            ResidentQuery {
                household_id: Some(household.id),
                grid_id: None,
                limit: 10,
                offset: 0,
            },
        )
        .await
        .unwrap()[0]
        .clone();
    let before = on_list(&w, WORKER, household.id)
        .await
        .expect("every household is listed");
    assert!(before["schedule"]["major_change"].is_null());

    // Hospitalised: a visit is due within 24 hours.
    let (s, _) = w
        .call(
            WORKER,
            Method::POST,
            &format!("/api/v1/residents/{}/major-changes", member.id),
            Some(json!({ "kind": "hospitalised", "note": "脑梗住院" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let due = on_list(&w, WORKER, household.id).await.unwrap();
    assert_eq!(due["schedule"]["status"], "due");
    assert_eq!(due["schedule"]["major_change"], "hospitalised");
    let due_at: Timestamp = due["schedule"]["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due_at, w.app.now() + SignedDuration::from_hours(24));
    let listed = w.ok(WORKER, Method::GET, "/api/v1/care-list", None).await;
    assert_eq!(
        listed[0]["household_id"], household.id,
        "major changes come first among the due"
    );

    w.advance(SignedDuration::from_hours(25)).await;
    assert_eq!(
        on_list(&w, WORKER, household.id).await.unwrap()["schedule"]["status"],
        "overdue"
    );

    // The visit, a day late; its needs become a referral and a note.
    let visit = w
        .ok(
            WORKER,
            Method::POST,
            "/api/v1/visits",
            Some(json!({
                "household_id": household.id, "resident_id": member.id, "mode": "home",
                "visitors": "李明芳、马立新", "situation": "已出院回家，妻子希望就近找份零工",
                "needs": [
                    { "kind": "employment", "detail": "妻子想在社区附近做钟点工", "programme": "community_jobs" },
                    { "kind": "medical", "detail": "需要康复护理指导" }
                ]
            })),
        )
        .await;
    assert_eq!(visit["on_time"], false);
    assert_eq!(visit["needs"].as_array().unwrap().len(), 2);
    let after = on_list(&w, WORKER, household.id).await.unwrap();
    assert!(after["schedule"]["major_change"].is_null());
    assert_ne!(after["schedule"]["status"], "overdue");
    // A visit of an out-of-scope household is refused; so is one ahead of time.
    let foreign = &w.households(w.other_grid).await[0];
    let (s, _) = w
        .call(
            WORKER,
            Method::POST,
            "/api/v1/visits",
            Some(json!({ "household_id": foreign.id, "mode": "home", "situation": "正常" })),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let tomorrow = w.app.now() + SignedDuration::from_hours(24);
    let (s, _) = w
        .call(WORKER, Method::POST, "/api/v1/visits", Some(json!({ "household_id": household.id, "mode": "phone", "situation": "电话回访", "visited_at": tomorrow })))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);

    // The referral moves on; a rejection needs its reason.
    let referrals = w
        .ok(
            WORKER,
            Method::GET,
            &format!("/api/v1/referrals?household={}", household.id),
            None,
        )
        .await;
    let r = &referrals[0];
    assert_eq!(
        (r["status"].as_str(), r["programme"].as_str()),
        (Some("recommended"), Some("community_jobs"))
    );
    let rid = r["id"].as_i64().unwrap();
    let uri = format!("/api/v1/referrals/{rid}/status");
    let (s, e) = w
        .call(
            WORKER,
            Method::POST,
            &uri,
            Some(json!({ "status": "approved", "version": 1 })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["error"]["message"], "帮扶状态不能从“已推荐”改为“已批准”");
    let moved = w
        .ok(
            WORKER,
            Method::POST,
            &uri,
            Some(json!({ "status": "submitted", "note": "已报社区", "version": 1 })),
        )
        .await;
    assert_eq!(moved["referral"]["status"], "submitted");
    let (s, _) = w
        .call(
            WORKER,
            Method::POST,
            &uri,
            Some(json!({ "status": "approved", "version": 1 })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "a stale version");
    let (s, _) = w
        .call(
            WORKER,
            Method::POST,
            &uri,
            Some(json!({ "status": "rejected", "version": 2 })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "a rejection without its reason");
    w.ok(
        WORKER,
        Method::POST,
        &uri,
        Some(json!({ "status": "approved", "note": "社区公益岗位", "version": 2 })),
    )
    .await;
    let delivered = w
        .ok(
            WORKER,
            Method::POST,
            &uri,
            Some(json!({ "status": "delivered", "version": 3 })),
        )
        .await;
    assert_eq!(delivered["events"].as_array().unwrap().len(), 3);
    // The printable form names the programme, never an ID or phone number.
    let (s, bytes) = w
        .send(
            Some(WORKER),
            Method::GET,
            &format!("/api/v1/referrals/{rid}/form.pdf"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let text = pdf_text(&bytes);
    assert!(text.contains("社区就近就业"), "{text}");
    assert!(text.contains("妻子想在社区附近做钟点工"), "{text}");
    assert_no_long_numbers(&text);
    let case = w
        .ok(
            WORKER,
            Method::POST,
            &format!("/api/v1/referrals/{rid}/case"),
            None,
        )
        .await;
    let again = w
        .ok(
            WORKER,
            Method::POST,
            &format!("/api/v1/referrals/{rid}/case"),
            None,
        )
        .await;
    assert_eq!(case["case_id"], again["case_id"], "one case per referral");
    let (s, _) = w
        .call(
            OTHER,
            Method::GET,
            &format!("/api/v1/referrals/{rid}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The building moves to another grid (a redrawn boundary): the household
    // leaves her list and joins that grid's worker's, its history with it.
    move_building_grid(&w, household.id, w.other_grid).await;
    assert!(on_list(&w, WORKER, household.id).await.is_none());
    let theirs = on_list(&w, OTHER, household.id)
        .await
        .expect("on the new grid's list");
    assert_eq!(theirs["grid_id"], w.other_grid);
    let visits = w
        .ok(
            OTHER,
            Method::GET,
            &format!("/api/v1/visits?household={}", household.id),
            None,
        )
        .await;
    assert_eq!(visits.as_array().unwrap().len(), 1);

    let figures = w
        .ok(WORKER, Method::GET, "/api/v1/field/figures", None)
        .await;
    let v = &figures["visits"]["workers"][0];
    assert_eq!(
        (v["visits"].as_i64(), v["on_time"].as_i64()),
        (Some(1), Some(0))
    );
}

/// Moves a household's building into another grid, as a redrawn boundary
/// does (its households and residents move with it).
pub(crate) async fn move_building_grid(w: &World, household: i64, to_grid: i64) {
    let h = w
        .store
        .household(&ScopeFilter::grids(vec![w.grid]), household)
        .await
        .unwrap()
        .unwrap();
    let grid = w.store.grid(to_grid).await.unwrap().unwrap();
    let building = building_of(w, h.dwelling_id.unwrap()).await;
    w.store
        .apply_boundary_changes(wangge_store::BoundaryChanges {
            effective: w.app.now(),
            recorded_at: w.app.now(),
            changes: Vec::new(),
            reassign_buildings: vec![(building, grid.grid.code.clone())],
        })
        .await
        .unwrap();
}

async fn building_of(w: &World, dwelling: i64) -> i64 {
    for b in w.store.all_buildings().await.unwrap() {
        for u in w.store.units_of_building(b.id).await.unwrap() {
            if w.store
                .dwellings_of_unit(u.id)
                .await
                .unwrap()
                .iter()
                .any(|d| d.id == dwelling)
            {
                return b.id;
            }
        }
    }
    panic!("dwelling {dwelling} in no building")
}

/// The text of a PDF, through its fonts' ToUnicode maps.
fn pdf_text(bytes: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(bytes).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).unwrap()
}

/// No run of 11 or more digits (a phone number) or an 18-character ID.
fn assert_no_long_numbers(text: &str) {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() || c == 'X' {
            run + 1
        } else {
            0
        };
        assert!(run < 11, "a long number in: {text}");
    }
}

/// Targets of a campaign as `(subject ids, targets)` for `user`.
async fn target_list(w: &World, user: &str, campaign: i64, query: &str) -> Vec<Value> {
    w.ok(
        user,
        Method::GET,
        &format!("/api/v1/campaigns/{campaign}/targets{query}"),
        None,
    )
    .await
    .as_array()
    .unwrap()
    .clone()
}

fn subjects(targets: &[Value]) -> BTreeSet<i64> {
    targets
        .iter()
        .map(|t| t["subject_id"].as_i64().unwrap())
        .collect()
}

async fn campaigns_target_exactly_and_keep_to_their_teams(db: &TestDb) {
    let w = world(db).await;
    let today = w.app.today();
    let heping: Vec<i64> = w
        .app
        .list_grids(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|g| g.community_name == "和平社区")
        .map(|g| g.grid.id)
        .collect();
    let all = ScopeFilter::grids(heping.clone());

    // Residents of 60 and over without a phone: exactly those of the register.
    let drill = w
        .ok(
            SECRETARY,
            Method::POST,
            "/api/v1/campaigns",
            Some(json!({
                "template": "drill_pre_registration", "name": "核酸检测演练预登记",
                "starts_on": "2026-11-25", "ends_on": "2026-12-31",
                "filter": { "min_age": 60, "without_phone": true }
            })),
        )
        .await;
    let id = drill["campaign"]["id"].as_i64().unwrap();
    let residents = w
        .store
        .residents(
            &all,
            ResidentQuery {
                household_id: None,
                grid_id: None,
                limit: 100_000,
                offset: 0,
            },
        )
        .await
        .unwrap();
    let want: BTreeSet<i64> = residents
        .iter()
        .filter(|r| r.age_on(today) >= 60 && r.phone_masked.is_none())
        .map(|r| r.id)
        .collect();
    assert!(
        want.len() >= 5,
        "the demo has such residents: {}",
        want.len()
    );
    let targets = target_list(&w, SECRETARY, id, "").await;
    assert_eq!(subjects(&targets), want);
    assert_eq!(drill["progress"]["total"], want.len());

    // New businesses (opened in the last six months, open): exactly those.
    let shops = w
        .ok(SECRETARY, Method::POST, "/api/v1/campaigns", Some(json!({ "template": "business_registration", "starts_on": "2026-11-01", "ends_on": "2026-12-31" })))
        .await;
    let shops_id = shops["campaign"]["id"].as_i64().unwrap();
    let since: jiff::civil::Date = "2026-05-30".parse().unwrap();
    let businesses = w
        .store
        .businesses(
            &all,
            BusinessQuery {
                grid_id: None,
                limit: 100_000,
                offset: 0,
            },
        )
        .await
        .unwrap();
    let want_shops: BTreeSet<i64> = businesses
        .iter()
        .filter(|b| b.status == BusinessStatus::Open && b.opening_date.is_some_and(|d| d >= since))
        .map(|b| b.id)
        .collect();
    assert!(!want_shops.is_empty());
    assert_eq!(
        subjects(&target_list(&w, SECRETARY, shops_id, "").await),
        want_shops
    );
    assert!(shops["with_safety_check"].as_bool().unwrap());
    // A shop whose legal person just replaced his ID card: the register
    // says why he cannot register, and then that he did.
    let shop_targets = target_list(&w, SECRETARY, shops_id, "").await;
    let t = &shop_targets[0];
    let business = t["subject_id"].as_i64().unwrap();
    let (s, e) = w
        .call(
            SECRETARY,
            Method::POST,
            &format!("/api/v1/targets/{}", t["id"]),
            Some(json!({ "status": "unable", "reason": "no_smartphone", "version": 1 })),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not a reason of this campaign: {e}"
    );
    w.ok(
        SECRETARY,
        Method::POST,
        &format!("/api/v1/targets/{}", t["id"]),
        Some(json!({ "status": "unable", "reason": "id_card_replaced", "note": "引导到服务窗口", "version": 1 })),
    )
    .await;
    let b = w
        .ok(
            SECRETARY,
            Method::GET,
            &format!("/api/v1/businesses/{business}"),
            None,
        )
        .await;
    assert_eq!(
        (b["app_status"].as_str(), b["app_reason"].as_str()),
        (Some("unable"), Some("id_card_replaced")),
        "{b}"
    );
    w.ok(
        SECRETARY,
        Method::POST,
        &format!("/api/v1/targets/{}", t["id"]),
        Some(json!({ "status": "done", "version": 2 })),
    )
    .await;
    let b = w
        .ok(
            SECRETARY,
            Method::GET,
            &format!("/api/v1/businesses/{business}"),
            None,
        )
        .await;
    assert_eq!(b["app_status"], "registered");
    // A filter that makes no sense for the kind is refused.
    let (s, _) = w
        .call(SECRETARY, Method::POST, "/api/v1/campaigns", Some(json!({ "template": "business_registration", "starts_on": "2026-11-01", "ends_on": "2026-12-31", "filter": { "min_age": 60 } })))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Grid workers do not plan campaigns.
    let (s, _) = w
        .call(
            WORKER,
            Method::POST,
            "/api/v1/campaigns",
            Some(
                json!({ "template": "custom", "starts_on": "2026-11-01", "ends_on": "2026-12-31" }),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The platform campaign of the pilot compound, worked door to door.
    let platform = w
        .ok(SECRETARY, Method::POST, "/api/v1/campaigns", Some(json!({ "template": "platform_registration", "starts_on": "2026-11-01", "ends_on": "2026-12-31", "filter": { "grid_ids": [w.grid], "min_age": 18 } })))
        .await;
    let pid = platform["campaign"]["id"].as_i64().unwrap();
    let mine = target_list(&w, WORKER, pid, "").await;
    assert!(mine.iter().all(|t| t["placement"]["grid_id"] == w.grid));
    // In door-to-door order: building, unit, floor, door.
    let order: Vec<(i64, i64, i64)> = mine
        .iter()
        .map(|t| {
            let p = &t["placement"];
            (
                p["building_number"].as_str().unwrap().parse().unwrap(),
                p["unit_number"].as_i64().unwrap(),
                p["floor"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    // The unit leader is given one unit of one building; she sees and works
    // only its targets, and nothing else of the register.
    let first = &mine[0]["placement"];
    let (building, unit) = (
        first["building_id"].as_i64().unwrap(),
        first["unit_id"].as_i64().unwrap(),
    );
    let leader = w
        .store
        .user_by_username(UNIT_LEADER)
        .await
        .unwrap()
        .unwrap();
    let volunteer = w.store.user_by_username(VOLUNTEER).await.unwrap().unwrap();
    let (s, _) = w
        .call(
            UNIT_LEADER,
            Method::GET,
            &format!("/api/v1/campaigns/{pid}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "not on the team yet");
    w.ok(
        SECRETARY,
        Method::POST,
        &format!("/api/v1/campaigns/{pid}/team"),
        Some(json!({ "user_id": leader.id, "building_id": building, "unit_id": unit })),
    )
    .await;
    let team = w
        .ok(
            SECRETARY,
            Method::POST,
            &format!("/api/v1/campaigns/{pid}/team"),
            Some(json!({ "user_id": volunteer.id, "building_id": building })),
        )
        .await;
    assert_eq!(team.as_array().unwrap().len(), 2);
    let hers = target_list(&w, UNIT_LEADER, pid, "").await;
    let want_hers: BTreeSet<i64> = mine
        .iter()
        .filter(|t| t["placement"]["unit_id"] == unit)
        .map(|t| t["subject_id"].as_i64().unwrap())
        .collect();
    assert_eq!(subjects(&hers), want_hers);
    let theirs = target_list(&w, VOLUNTEER, pid, "").await;
    assert!(
        theirs.len() > hers.len()
            && theirs
                .iter()
                .all(|t| t["placement"]["building_id"] == building)
    );
    let outside = mine
        .iter()
        .find(|t| t["placement"]["building_id"] != building)
        .unwrap();
    let (s, _) = w
        .call(
            UNIT_LEADER,
            Method::GET,
            &format!("/api/v1/targets/{}", outside["id"]),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = w
        .call(
            UNIT_LEADER,
            Method::POST,
            &format!("/api/v1/targets/{}", outside["id"]),
            Some(json!({ "status": "done", "version": 1 })),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, register) = w
        .call(
            UNIT_LEADER,
            Method::GET,
            &format!("/api/v1/residents?grid={}", w.grid),
            None,
        )
        .await;
    assert!(
        s == StatusCode::FORBIDDEN || register.as_array().is_some_and(|a| a.is_empty()),
        "no register access: {s} {register}"
    );
    let (s, _) = w
        .call(
            UNIT_LEADER,
            Method::GET,
            &format!("/api/v1/campaigns/{id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "not her campaign");

    // Statuses with reasons; done is final; a stale version is refused.
    let t1 = hers[0]["id"].as_i64().unwrap();
    let t2 = hers[1]["id"].as_i64().unwrap();
    let uri = |t: i64| format!("/api/v1/targets/{t}");
    let (s, e) = w
        .call(
            UNIT_LEADER,
            Method::POST,
            &uri(t1),
            Some(json!({ "status": "unable", "version": 1 })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["error"]["message"], "请选择无法完成的原因");
    let t = w
        .ok(UNIT_LEADER, Method::POST, &uri(t1), Some(json!({ "status": "unable", "reason": "no_smartphone", "note": "老人用老年机", "version": 1 })))
        .await;
    assert_eq!(
        (
            t["target"]["status"].as_str(),
            t["target"]["reason"].as_str()
        ),
        (Some("unable"), Some("no_smartphone"))
    );
    let (s, _) = w
        .call(
            UNIT_LEADER,
            Method::POST,
            &uri(t1),
            Some(json!({ "status": "done", "version": 1 })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "stale version");
    w.ok(
        UNIT_LEADER,
        Method::POST,
        &uri(t1),
        Some(json!({ "status": "done", "note": "子女帮助注册", "version": 2 })),
    )
    .await;
    let (s, _) = w
        .call(
            UNIT_LEADER,
            Method::POST,
            &uri(t1),
            Some(json!({ "status": "pending", "version": 3 })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "done is final");
    w.ok(
        VOLUNTEER,
        Method::POST,
        &uri(t2),
        Some(json!({ "status": "contacted", "reason": "owner_away", "version": 1 })),
    )
    .await;
    let events = w.ok(UNIT_LEADER, Method::GET, &uri(t1), None).await["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(events, 2);
    // Progress: her view counts her unit; the secretary's the building and unit rows.
    let d = w
        .ok(
            UNIT_LEADER,
            Method::GET,
            &format!("/api/v1/campaigns/{pid}"),
            None,
        )
        .await;
    assert_eq!(d["progress"]["total"], hers.len());
    assert_eq!(
        (
            d["progress"]["done"].as_i64(),
            d["progress"]["contacted"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let n = hers.len() as f64;
    assert_eq!(d["completion"], format!("{:.1}%", 100.0 / n));
    assert_eq!(d["awareness"], format!("{:.1}%", 200.0 / n));
    let all_view = w
        .ok(
            SECRETARY,
            Method::GET,
            &format!("/api/v1/campaigns/{pid}"),
            None,
        )
        .await;
    let unit_row = all_view["by_unit"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["key"] == unit.to_string())
        .unwrap();
    assert_eq!(unit_row["progress"]["done"], 1);
    assert_eq!(unit_row["progress"]["total"], hers.len());
    assert_eq!(all_view["by_grid"].as_array().unwrap().len(), 1);

    // QR cards for the drill: printed, scanned, checked in, revoked.
    let (s, pdf) = w
        .send(
            Some(WORKER),
            Method::POST,
            &format!("/api/v1/campaigns/{id}/qr-cards.pdf?min_age=60&without_phone=1"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
    let in_grid: BTreeSet<i64> = residents
        .iter()
        .filter(|r| r.grid_id == w.grid && want.contains(&r.id))
        .map(|r| r.id)
        .collect();
    let cards = qr_payloads(&pdf);
    assert_eq!(
        cards.len(),
        in_grid.len(),
        "one card per target of her grid"
    );
    let text = pdf_text(&pdf);
    assert_no_long_numbers(&text);
    for r in residents.iter().filter(|r| in_grid.contains(&r.id)) {
        assert!(
            !text.contains(&r.name) || r.name.chars().count() < 2,
            "full name {} printed",
            r.name
        );
        assert!(
            text.contains(&wangge_core::register::mask_name(&r.name)),
            "masked {}",
            r.name
        );
    }
    // Each card scans back to the resident printed on it.
    let mut scanned_names: Vec<String> = Vec::new();
    for c in &cards {
        let token = c
            .strip_prefix("http://wangge.test/q/")
            .expect("a link to the scan page");
        scanned_names.push(
            w.ok(WORKER, Method::GET, &format!("/api/v1/qr/{token}"), None)
                .await["name_masked"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    scanned_names.sort();
    let mut printed: Vec<String> = residents
        .iter()
        .filter(|r| in_grid.contains(&r.id))
        .map(|r| wangge_core::register::mask_name(&r.name))
        .collect();
    printed.sort();
    assert_eq!(scanned_names, printed);
    let token = cards[0]
        .strip_prefix("http://wangge.test/q/")
        .expect("a link to the scan page")
        .to_owned();
    let scan = w
        .ok(WORKER, Method::GET, &format!("/api/v1/qr/{token}"), None)
        .await;
    assert!(scan["name_masked"].as_str().unwrap().contains('*'));
    let target = scan["targets"][0][1]["id"].as_i64().unwrap();
    assert_eq!(scan["targets"][0][0], "核酸检测演练预登记");
    let (s, _) = w
        .call(OTHER, Method::GET, &format!("/api/v1/qr/{token}"), None)
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "another community's worker learns nothing"
    );
    let done = w
        .ok(
            WORKER,
            Method::POST,
            &format!("/api/v1/qr/{token}/check-in"),
            Some(json!({ "target_id": target })),
        )
        .await;
    assert_eq!(done["target"]["status"], "done");
    assert_eq!(done["events"][0]["via"], "qr");
    // Printing again revokes the first cards: they check in nothing.
    let (s, _) = w
        .send(
            Some(WORKER),
            Method::POST,
            &format!("/api/v1/campaigns/{id}/qr-cards.pdf?min_age=60&without_phone=1"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let other_target = cards
        .iter()
        .skip(1)
        .map(|c| c.rsplit('/').next().unwrap().to_owned())
        .next()
        .unwrap();
    let (s, e) = w
        .call(
            WORKER,
            Method::POST,
            &format!("/api/v1/qr/{other_target}/check-in"),
            Some(json!({ "target_id": target })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["message"], "该二维码已作废，请使用新卡片");
    let (s, _) = w
        .call(WORKER, Method::GET, "/api/v1/qr/not-a-token", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

/// What the QR codes of a PDF carry.
fn qr_payloads(bytes: &[u8]) -> Vec<String> {
    let doc = lopdf::Document::load_mem(bytes).unwrap();
    let mut out = Vec::new();
    for obj in doc.objects.values() {
        if let lopdf::Object::Stream(s) = obj
            && s.dict.get(b"Subtype").and_then(|o| o.as_name()).ok() == Some(b"Image".as_slice())
        {
            let w = s.dict.get(b"Width").unwrap().as_i64().unwrap() as usize;
            let h = s.dict.get(b"Height").unwrap().as_i64().unwrap() as usize;
            let k = 6;
            let mut img = rqrr::PreparedImage::prepare_from_greyscale(w * k, h * k, |x, y| {
                s.content[(y / k) * w + x / k]
            });
            let grids = img.detect_grids();
            assert_eq!(grids.len(), 1);
            out.push(grids[0].decode().unwrap().1);
        }
    }
    out
}

async fn opinions_and_notices_go_round(db: &TestDb) {
    let w = world(db).await;
    let o = w
        .ok(WORKER, Method::POST, "/api/v1/opinions", Some(json!({ "topic": "traffic", "body": "小区门口早高峰停车混乱", "voiced_by": "13栋居民" })))
        .await;
    assert_eq!(
        (o["grid_id"].as_i64(), o["status"].as_str()),
        (Some(w.grid), Some("open"))
    );
    let oid = o["id"].as_i64().unwrap();
    // A resident's own opinion goes to the grid of where they are.
    let b = w.store.buildings_of_grid(w.grid).await.unwrap()[0].clone();
    let mine = w
        .ok(RESIDENT, Method::POST, "/api/v1/opinions", Some(json!({ "topic": "elderly_care", "body": "希望增加老年食堂", "lat": b.location.lat, "lon": b.location.lon })))
        .await;
    assert_eq!(mine["grid_id"], w.grid);
    let (s, _) = w
        .call(
            RESIDENT,
            Method::POST,
            "/api/v1/opinions",
            Some(json!({ "topic": "other", "body": "没有位置" })),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let theirs = w.ok(RESIDENT, Method::GET, "/api/v1/opinions", None).await;
    assert_eq!(
        theirs.as_array().unwrap().len(),
        1,
        "a resident sees only their own"
    );
    let (s, _) = w
        .call(
            RESIDENT,
            Method::GET,
            &format!("/api/v1/opinions/{oid}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let list = w
        .ok(WORKER, Method::GET, "/api/v1/opinions?status=open", None)
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let (s, _) = w
        .call(
            OTHER,
            Method::POST,
            &format!("/api/v1/opinions/{oid}/answer"),
            Some(json!({ "answer": "收到" })),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let answered = w
        .ok(
            WORKER,
            Method::POST,
            &format!("/api/v1/opinions/{}/answer", mine["id"]),
            Some(json!({ "answer": "已反映给社区，正在选址" })),
        )
        .await;
    assert_eq!(answered["status"], "answered");
    let mine_now = w
        .ok(
            RESIDENT,
            Method::GET,
            &format!("/api/v1/opinions/{}", mine["id"]),
            None,
        )
        .await;
    assert_eq!(mine_now["answer"], "已反映给社区，正在选址");
    let converted = w
        .ok(
            WORKER,
            Method::POST,
            &format!("/api/v1/opinions/{oid}/case"),
            Some(json!({ "category": "C03", "address": "和平路小区东门" })),
        )
        .await;
    assert_eq!(converted["opinion"]["status"], "converted");
    let case = w
        .ok(
            WORKER,
            Method::GET,
            &format!("/api/v1/cases/{}", converted["case_id"]),
            None,
        )
        .await;
    assert!(case["description"].as_str().unwrap().contains("停车混乱"));
    let (s, _) = w
        .call(
            WORKER,
            Method::POST,
            &format!("/api/v1/opinions/{oid}/answer"),
            Some(json!({ "answer": "再答一次" })),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // A community notice reaches its grids' workers, who pass it on.
    let heping = w
        .store
        .grid(w.grid)
        .await
        .unwrap()
        .unwrap()
        .grid
        .community_id;
    let n = w
        .ok(SECRETARY, Method::POST, "/api/v1/notices", Some(json!({ "level": "community", "unit_id": heping, "title": "冬季燃气安全提示", "body": "请检查燃气软管，使用燃气时保持通风。" })))
        .await;
    let nid = n["notice"]["id"].as_i64().unwrap();
    assert_eq!(
        n["grids"].as_array().unwrap().len(),
        8,
        "the community's eight grids"
    );
    let (s, _) = w
        .call(
            WORKER,
            Method::POST,
            "/api/v1/notices",
            Some(json!({ "level": "grid", "unit_id": w.grid, "title": "x", "body": "yy" })),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "workers pass notices on, they do not publish"
    );
    let (s, _) = w.call(SECRETARY, Method::POST, "/api/v1/notices", Some(json!({ "level": "grid", "unit_id": w.other_grid, "title": "越界", "body": "别的社区" }))).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let seen = w.ok(WORKER, Method::GET, "/api/v1/notices", None).await;
    assert_eq!(seen[0]["id"], nid);
    let (s, _) = w
        .call(OTHER, Method::GET, &format!("/api/v1/notices/{nid}"), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let relayed = w
        .ok(
            WORKER,
            Method::POST,
            &format!("/api/v1/notices/{nid}/relays"),
            Some(json!({ "mode": "group_chat", "reach": 120, "note": "楼栋群转发" })),
        )
        .await;
    assert_eq!(relayed["notice"]["reach"], 120);
    let grid_row = relayed["grids"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g[0] == w.grid)
        .unwrap()
        .clone();
    assert_eq!(grid_row[2], 1);
    let overview = w
        .ok(
            SECRETARY,
            Method::GET,
            &format!("/api/v1/notices/{nid}"),
            None,
        )
        .await;
    let passed_on = overview["grids"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g[2].as_i64().unwrap() > 0)
        .count();
    assert_eq!(
        passed_on, 1,
        "the secretary sees which grids have not passed it on"
    );
    assert_eq!(overview["relays"][0]["worker_name"], "网格员 李明芳");
}

impl World {
    pub(crate) async fn page(&self, user: Option<&str>, uri: &str) -> (StatusCode, String) {
        let mut req = Request::get(uri);
        if let Some(u) = user {
            req = req.header(header::COOKIE, format!("wangge_session={}", self.tokens[u]));
        }
        let res = self
            .router
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        (
            status,
            String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes())
                .into_owned(),
        )
    }

    /// Posts a page form as `user` (with the CSRF token of `csrf_from`'s page); the redirect.
    async fn post_form(
        &self,
        user: &str,
        uri: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, Option<String>, String) {
        let (_, html) = self.page(Some(user), "/field").await;
        let marker = r#"name="_csrf" value=""#;
        let start = html.find(marker).unwrap() + marker.len();
        let csrf = html[start..].split('"').next().unwrap().to_owned();
        let mut all = vec![("_csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        let req = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(
                header::COOKIE,
                format!("wangge_session={}", self.tokens[user]),
            )
            .body(Body::from(serde_urlencoded::to_string(&all).unwrap()))
            .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned());
        (
            status,
            location,
            String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes())
                .into_owned(),
        )
    }
}

/// The phone pages on the demo's field work: the hub, a patrol started and
/// a visit recorded from forms, the checklist, the scan page, the lists.
async fn the_field_pages(db: &TestDb) {
    let w = world(db).await;
    let report = w.app.load_demo_field().await.unwrap();
    assert!(
        report.patrols > 10 && report.visits > 100 && report.campaigns == 3,
        "{report:?}"
    );
    let (s, hub) = w.page(Some(WORKER), "/field").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        hub.contains("开始巡查") && hub.contains("待走访") && hub.contains("核酸检测演练预登记"),
        "{hub}"
    );
    assert!(
        hub.contains("住院"),
        "the hospitalised resident's household is due: {hub}"
    );
    let (s, to, body) = w.post_form(WORKER, "/field/patrol/start", &[]).await;
    assert_eq!(
        (s, to.as_deref()),
        (StatusCode::SEE_OTHER, Some("/field")),
        "{body}"
    );
    let (_, hub) = w.page(Some(WORKER), "/field").await;
    assert!(
        hub.contains("巡查进行中") && hub.contains("/api/v1/patrols/"),
        "{hub}"
    );

    // A visit from the due list.
    let start = hub.find("/field/visits/new?household=").unwrap();
    let link = hub[start..].split('"').next().unwrap().to_owned();
    let household = link.rsplit('=').next().unwrap().to_owned();
    let (s, form) = w.page(Some(WORKER), &link).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        form.contains("记录走访") && form.contains("春蕾助学"),
        "{form}"
    );
    let (s, to, body) = w
        .post_form(
            WORKER,
            "/field/visits/new",
            &[
                ("household_id", &household),
                ("mode", "home"),
                ("situation", "身体好转"),
                ("need0.kind", "living"),
                ("need0.detail", "冬季取暖"),
                ("need0.programme", "temporary_relief"),
            ],
        )
        .await;
    assert_eq!(
        (s, to.as_deref()),
        (StatusCode::SEE_OTHER, Some("/field")),
        "{body}"
    );
    let (s, list) = w.page(Some(WORKER), "/field/referrals").await;
    assert_eq!(s, StatusCode::OK);
    assert!(list.contains("冬季取暖") && list.contains("已推荐"));
    let rid = list[list.find("/field/referrals/").unwrap() + 17..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let (s, one) = w
        .page(Some(WORKER), &format!("/field/referrals/{rid}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(one.contains("form.pdf"));
    // A form with a bad value: the error page, nothing saved.
    let (s, _, body) = w
        .post_form(
            WORKER,
            "/field/visits/new",
            &[
                ("household_id", &household),
                ("mode", "teleport"),
                ("situation", "x"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // The campaign checklist, as the unit leader sees it.
    let campaigns = w
        .ok(UNIT_LEADER, Method::GET, "/api/v1/campaigns", None)
        .await;
    let platform = campaigns
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["template"] == "platform_registration")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let (s, checklist) = w
        .page(Some(UNIT_LEADER), &format!("/field/campaigns/{platform}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    let hers = target_list(&w, UNIT_LEADER, platform, "").await;
    assert_eq!(checklist.matches("<tr id=\"t").count(), hers.len());
    let open = hers.iter().find(|t| t["status"] != "done").unwrap();
    let (s, to, body) = w
        .post_form(
            UNIT_LEADER,
            &format!("/field/targets/{}", open["id"]),
            &[
                ("status", "done"),
                ("version", &open["version"].to_string()),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::SEE_OTHER, "{body}");
    assert!(
        to.unwrap()
            .starts_with(&format!("/field/campaigns/{platform}#t"))
    );

    // A scanned card tells a stranger nothing.
    let drill = campaigns
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["template"] == "drill_pre_registration");
    assert!(
        drill.is_none(),
        "the unit leader is not on the drill's team"
    );
    let (s, page) = w.page(None, "/q/some-token").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.contains("请交给现场工作人员扫码") && page.contains("/login?next=/q/some-token"));

    for uri in [
        "/field/opinions",
        "/field/notices",
        "/field/figures",
        "/field/campaigns",
    ] {
        let (s, body) = w.page(Some(WORKER), uri).await;
        assert_eq!(s, StatusCode::OK, "{uri}: {body}");
    }
    let (_, notices) = w.page(Some(SECRETARY), "/field/notices").await;
    assert!(notices.contains("发布通知") && notices.contains("冬季燃气安全提示"));
    let nid = notices[notices.find("/field/notices/").unwrap() + 15..]
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let (s, notice) = w
        .page(Some(SECRETARY), &format!("/field/notices/{nid}"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        notice.contains("未转达"),
        "the grids that have not passed it on: {notice}"
    );
    let (_, figures) = w.page(Some(WORKER), "/field/figures").await;
    assert!(figures.contains("网格员 李明芳") && figures.contains('%'));
    // A safety check from its page, the failure filed as a case.
    let shop = w
        .store
        .businesses(
            &ScopeFilter::grids(vec![w.grid]),
            BusinessQuery {
                grid_id: Some(w.grid),
                limit: 1,
                offset: 0,
            },
        )
        .await
        .unwrap()[0]
        .clone();
    let uri = format!("/field/businesses/{}/inspect", shop.id);
    let (s, form) = w.page(Some(WORKER), &uri).await;
    assert_eq!(s, StatusCode::OK);
    assert!(form.contains("灭火器配备且在有效期内"));
    let (s, to, body) = w
        .post_form(
            WORKER,
            &uri,
            &[
                ("extinguishers", "pass"),
                ("exits", "pass"),
                ("wiring", "fail"),
                ("wiring.note", "插线板串联"),
                ("gas", "na"),
                ("flammables", "pass"),
                ("no_lodging", "pass"),
                ("report_failures", "1"),
            ],
        )
        .await;
    assert_eq!(
        (s, to.as_deref()),
        (StatusCode::SEE_OTHER, Some(uri.as_str())),
        "{body}"
    );
    let checks = w
        .ok(
            WORKER,
            Method::GET,
            &format!("/api/v1/businesses/{}/inspections", shop.id),
            None,
        )
        .await;
    assert_eq!(checks[0]["failed"], 1);
    assert_eq!(checks[0]["case_ids"].as_array().unwrap().len(), 1);

    // Administrators edit the visit rules on their page; others may not.
    let (s, _) = w.page(Some(WORKER), "/admin/visit-rules").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, rules_page) = w.page(Some("admin"), "/admin/visit-rules").await;
    assert_eq!(s, StatusCode::OK);
    assert!(rules_page.contains("80岁以上独居老人"));
    let (s, to, body) = w
        .post_form(
            "admin",
            "/admin/visit-rules",
            &[
                ("r0.name", "90岁以上老人"),
                ("r0.tag", ""),
                ("r0.min_age", "90"),
                ("r0.frequency", "weekly"),
                ("r1.name", "普通家庭"),
                ("r1.tag", ""),
                ("r1.min_age", ""),
                ("r1.frequency", "quarterly"),
                ("r2.name", ""),
                ("r2.tag", ""),
                ("r2.min_age", ""),
                ("r2.frequency", "weekly"),
            ],
        )
        .await;
    assert_eq!(
        (s, to.as_deref()),
        (StatusCode::SEE_OTHER, Some("/admin/visit-rules")),
        "{body}"
    );
    let rules = w.ok(WORKER, Method::GET, "/api/v1/visit-rules", None).await;
    assert_eq!(rules.as_array().unwrap().len(), 2);
    assert_eq!(rules[1]["frequency"], "quarterly");
    // Without a rule for everyone, nothing is saved.
    let (s, _, _) = w
        .post_form(
            "admin",
            "/admin/visit-rules",
            &[
                ("r0.name", "只看老人"),
                ("r0.tag", ""),
                ("r0.min_age", "60"),
                ("r0.frequency", "monthly"),
            ],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        w.ok(WORKER, Method::GET, "/api/v1/visit-rules", None)
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Residents see only their own opinions; no hub for their role's work.
    let (s, own) = w.page(Some(RESIDENT), "/field/opinions").await;
    assert_eq!(s, StatusCode::OK);
    assert!(own.contains("楼道里堆放杂物") && !own.contains("停车混乱"));
}

both_backends!(
    patrols_keep_tracks_once_and_link_their_work,
    visits_follow_major_changes_moves_and_needs,
    campaigns_target_exactly_and_keep_to_their_teams,
    opinions_and_notices_go_round,
    the_field_pages,
);
