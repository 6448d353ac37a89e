//! Cases over HTTP on both backends: the storm drain at building 13 from
//! report to rating, a return and a rework, idempotency, scope, refusals.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;
use wangge_app::{App, FixedClock, UserSpec, Vault};
use wangge_core::policy::{Actor, Role};
use wangge_store::ScopeKind;
use wangge_testkit::photos::{CAMERA, GPS_SECONDS, contains, with_exif};
use wangge_testkit::{TestDb, both_backends};

struct World {
    router: Router,
    app: Arc<App>,
    tokens: HashMap<&'static str, String>,
    drain: (f64, f64),
    clock: Arc<FixedClock>,
}

async fn world(db: &TestDb) -> World {
    // Monday 30 November 2026, 09:00 China time.
    let clock = Arc::new(FixedClock::new("2026-11-30T01:00:00Z".parse().unwrap()));
    let app = App::new(
        db.store.clone(),
        clock.clone(),
        Vault::from_master_key(&[7; 32]),
    )
    .await
    .unwrap();
    app.load_demo_geography().await.unwrap();
    let communities = app.list_communities().await.unwrap();
    let heping = &communities[0];
    let b13 = db
        .store
        .all_buildings()
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.number == "13" && b.community_id == heping.community.id)
        .unwrap();
    let other_grid = app
        .list_grids(None)
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.grid.id != b13.grid_id)
        .unwrap()
        .grid
        .id;
    let roads = db
        .store
        .departments()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.code == "roads")
        .unwrap()
        .id;
    let water = db
        .store
        .departments()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.code == "water")
        .unwrap()
        .id;
    let users: Vec<(&'static str, Role, Vec<(ScopeKind, i64)>)> = vec![
        (
            "worker",
            Role::GridWorker,
            vec![(ScopeKind::Grid, b13.grid_id)],
        ),
        (
            "worker2",
            Role::GridWorker,
            vec![(ScopeKind::Grid, other_grid)],
        ),
        (
            "leader",
            Role::GridLeader,
            vec![(ScopeKind::Grid, b13.grid_id)],
        ),
        (
            "secretary",
            Role::CommunitySecretary,
            vec![(ScopeKind::Community, heping.community.id)],
        ),
        (
            "roads",
            Role::DepartmentStaff,
            vec![(ScopeKind::Department, roads)],
        ),
        (
            "water",
            Role::DepartmentStaff,
            vec![(ScopeKind::Department, water)],
        ),
        ("shopkeeper", Role::Resident, vec![]),
        ("neighbour", Role::Resident, vec![]),
        ("admin", Role::Admin, vec![]),
    ];
    let mut tokens = HashMap::new();
    for (name, role, scopes) in users {
        let (_, password) = app
            .create_user(
                None,
                UserSpec {
                    username: name.into(),
                    display_name: name.into(),
                    role,
                    scopes,
                },
            )
            .await
            .unwrap();
        tokens.insert(name, app.login(name, &password, None).await.unwrap().token);
    }
    World {
        router: wangge_web::router(app.clone()),
        app,
        tokens,
        drain: (b13.location.lat + 0.00003, b13.location.lon),
        clock,
    }
}

/// A phone photo: a street scene with EXIF naming the camera and position.
fn phone_photo(seed: u64) -> Vec<u8> {
    with_exif(&wangge_media::sample_photo(seed, 640, 480), 1)
}

impl World {
    async fn call(
        &self,
        user: Option<&str>,
        method: Method,
        uri: &str,
        body: Option<Value>,
        extra: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(u) = user {
            req = req.header(header::AUTHORIZATION, format!("Bearer {}", self.tokens[u]));
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
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
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn act(&self, user: &str, id: i64, action: &str, extra: Value) -> Value {
        let mut body = json!({ "action": action });
        if let Value::Object(m) = extra {
            for (k, v) in m {
                body[k] = v;
            }
        }
        let (status, case) = self
            .call(
                Some(user),
                Method::POST,
                &format!("/api/v1/cases/{id}/actions"),
                Some(body),
                &[],
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{user} {action}: {case}");
        case
    }

    /// Sends raw bytes; the status and the body's bytes.
    async fn raw(
        &self,
        user: Option<&str>,
        method: Method,
        uri: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        let mut req = Request::builder().method(method).uri(uri);
        if let Some(u) = user {
            req = req.header(header::AUTHORIZATION, format!("Bearer {}", self.tokens[u]));
        }
        let res = self
            .router
            .clone()
            .oneshot(
                req.header(header::CONTENT_TYPE, "image/jpeg")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
            .unwrap();
        let status = res.status();
        (
            status,
            res.into_body().collect().await.unwrap().to_bytes().to_vec(),
        )
    }

    /// Uploads a photo as `user`; its id.
    async fn photo(&self, user: &str, bytes: Vec<u8>) -> i64 {
        let (status, body) = self
            .raw(Some(user), Method::POST, "/api/v1/photos", bytes)
            .await;
        assert_eq!(
            status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice::<Value>(&body).unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    async fn inbox(&self, user: &str) -> Vec<Value> {
        let (s, inbox) = self
            .call(Some(user), Method::GET, "/api/v1/inbox", None, &[])
            .await;
        assert_eq!(s, StatusCode::OK);
        inbox["messages"].as_array().unwrap().clone()
    }

    async fn report(&self, user: &str, key: &str) -> (StatusCode, Value) {
        self.report_with(user, key, &[]).await
    }

    async fn report_with(&self, user: &str, key: &str, photos: &[i64]) -> (StatusCode, Value) {
        let body = json!({
            "category": "0103",
            "description": "13栋门前雨水井盖缺失，人车流量大",
            "lat": self.drain.0, "lon": self.drain.1,
            "address": "和平路 34 号 13 栋门前",
            "urgency": "urgent",
            "answers": { "traffic": ["大"] },
            "photos": photos,
        });
        self.call(
            Some(user),
            Method::POST,
            "/api/v1/cases",
            Some(body),
            &[("idempotency-key", key)],
        )
        .await
    }
}

async fn the_storm_drain_is_replaced_and_rated(db: &TestDb) {
    let w = world(db).await;
    // She photographs the open drain with her phone, which writes its
    // position and model into the file.
    let before = w.photo("worker", phone_photo(1)).await;
    let (status, case) = w.report_with("worker", "k-1", &[before]).await;
    assert_eq!(status, StatusCode::CREATED, "{case}");
    assert_eq!(case["timeline"][0]["photos"][0]["id"], before);
    let id = case["id"].as_i64().unwrap();
    assert_eq!(case["state"], "reported");
    assert_eq!(case["category_name"], "雨水井盖");
    assert!(
        case["grid_name"].as_str().unwrap().starts_with("和平社区"),
        "the grid comes from the position"
    );
    assert_eq!(
        case["department"], "市政道路",
        "routed to roads by category"
    );
    assert_eq!(case["overall"]["light"], "green");
    assert!(
        case["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "escalate")
    );
    // She cannot fix it: she escalates to the grid leader.
    w.act(
        "worker",
        id,
        "escalate",
        json!({"note": "需更换井盖，本人无法处理"}),
    )
    .await;
    let c = w.act("leader", id, "accept", json!({})).await;
    assert_eq!(c["level"], "grid_leader");
    let c = w
        .act("leader", id, "dispatch", json!({"department": "roads"}))
        .await;
    assert_eq!(c["state"], "dispatched");
    // The department learns of it in its inbox; the leader, who acted, does not.
    let roads_inbox = w.inbox("roads").await;
    assert!(
        roads_inbox
            .iter()
            .any(|m| m["kind"] == "dispatched" && m["case_id"] == id),
        "{roads_inbox:?}"
    );
    assert!(
        w.inbox("leader")
            .await
            .iter()
            .all(|m| m["kind"] != "dispatched")
    );
    // The roads department sees it, the water department does not.
    let (s, _) = w
        .call(
            Some("water"),
            Method::GET,
            &format!("/api/v1/cases/{id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, list) = w
        .call(
            Some("roads"),
            Method::GET,
            "/api/v1/cases?state=dispatched",
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(list.as_array().unwrap().iter().any(|c| c["id"] == id));
    // Twenty minutes later (sessions idle out after thirty).
    w.clock.set("2026-11-30T01:20:00Z".parse().unwrap());
    w.act("roads", id, "start_work", json!({})).await;
    // "Handled" needs the after-photo.
    let (s, refused) = w
        .call(
            Some("roads"),
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            Some(json!({"action": "handle", "note": "已更换新井盖"})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused["error"]["field"], "photos");
    // Nobody attaches someone else's photo.
    let (s, _) = w
        .call(
            Some("roads"),
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            Some(json!({"action": "handle", "note": "x", "photos": [before]})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let after = w.photo("roads", phone_photo(2)).await;
    let c = w
        .act(
            "roads",
            id,
            "handle",
            json!({"note": "已更换新井盖", "photos": [after]}),
        )
        .await;
    assert_eq!(c["state"], "handled");
    let handled = c["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(handled["photos"][0]["id"], after, "the after-photo");
    assert!(
        w.inbox("worker")
            .await
            .iter()
            .any(|m| m["kind"] == "verification_due"),
        "she is asked to check it"
    );
    w.act(
        "worker",
        id,
        "verify_pass",
        json!({"note": "现场核查，井盖已补齐"}),
    )
    .await;
    let c = w.act("leader", id, "close", json!({})).await;
    assert_eq!(c["state"], "closed");
    assert_eq!(c["overall"]["due_zh"], "已办结");
    // Only its reporter rates it.
    let (s, refused) = w
        .call(
            Some("leader"),
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            Some(json!({"action": "rate", "rating": 5})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(refused["error"]["code"], "action_refused");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("您的角色不能")
    );
    assert!(
        w.inbox("worker")
            .await
            .iter()
            .any(|m| m["kind"] == "closed")
    );
    let c = w
        .act(
            "worker",
            id,
            "rate",
            json!({"rating": 5, "note": "更换及时"}),
        )
        .await;
    assert_eq!(c["state"], "rated");
    assert_eq!(c["rating"], 5);
    // The reporter was the grid worker; the shopkeepers follow the public page.
    let code = c["public_code"].as_str().unwrap().to_owned();
    let (s, public) = w
        .call(
            None,
            Method::GET,
            &format!("/api/v1/public/cases/{code}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(public["closed"], true);
    assert_eq!(public["department"], "市政道路");
    let text = public.to_string();
    assert!(
        !text.contains("worker") && !text.contains("本人无法处理"),
        "no reporter, no internal notes: {text}"
    );
    assert!(
        text.contains("已更换新井盖"),
        "the public sees what was done"
    );
    // ... and the photos, with nothing of the phone's metadata in them.
    let url = public["timeline"][0]["photos"][0]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, bytes) = w.raw(None, Method::GET, &url, Vec::new()).await;
    assert_eq!(s, StatusCode::OK);
    assert!(bytes.starts_with(&[0xFF, 0xD8]), "a JPEG");
    assert!(!contains(&bytes, b"Exif") && !contains(&bytes, CAMERA));
    assert!(!contains(&bytes, &GPS_SECONDS.to_le_bytes()));
    let (s, _) = w
        .raw(
            Some("worker2"),
            Method::GET,
            &format!("/api/v1/photos/{after}"),
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another grid's worker");
    let (s, _) = w
        .raw(
            Some("roads"),
            Method::GET,
            &format!("/api/v1/photos/{before}/thumbnail"),
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "the department sees the case's photos");
    // The figures count it, with their sample sizes.
    let (s, rows) = w
        .call(
            Some("secretary"),
            Method::GET,
            "/api/v1/kpis?by=department",
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let roads = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"] == "市政道路")
        .unwrap()
        .clone();
    assert_eq!(roads["cases"], 1);
    assert_eq!(roads["on_time_closure"], json!({"hits": 1, "of": 1}));
    assert_eq!(roads["accurate_dispatch"], json!({"hits": 1, "of": 1}));
    assert_eq!(roads["small_sample"], true);
    let (s, html) = page(&w, Some("secretary"), "/kpis?by=department").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("市政道路") && html.contains("100% (1/1)"),
        "{html}"
    );
    assert!(html.contains("样本少"), "small samples are flagged");
    // Per grid worker: she reported it on her rounds.
    let (s, rows) = w
        .call(
            Some("secretary"),
            Method::GET,
            "/api/v1/kpis?by=worker",
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let hers = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["group"] == "worker（worker）")
        .unwrap_or_else(|| panic!("{rows}"))
        .clone();
    assert_eq!(hers["cases"], 1);
    assert_eq!(hers["on_time_closure"], json!({"hits": 1, "of": 1}));
    let (s, _) = w
        .call(
            Some("secretary"),
            Method::GET,
            "/api/v1/kpis?by=planet",
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Rated once only.
    let (s, refused) = w
        .call(
            Some("worker"),
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            Some(json!({"action": "rate", "rating": 1})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("已评价")
    );
}

async fn a_return_and_a_failed_check_send_it_back(db: &TestDb) {
    let w = world(db).await;
    let (_, case) = w.report("shopkeeper", "r-1").await;
    let id = case["id"].as_i64().unwrap();
    assert_eq!(case["source"], "resident");
    w.act("leader", id, "accept", json!({})).await;
    // Dispatched to the wrong department: water returns it.
    w.act("leader", id, "dispatch", json!({"department": "water"}))
        .await;
    let c = w
        .act(
            "water",
            id,
            "return",
            json!({"note": "雨水井归市政道路管理"}),
        )
        .await;
    assert_eq!(c["state"], "accepted");
    w.act("leader", id, "dispatch", json!({"department": "roads"}))
        .await;
    let p = w.photo("roads", phone_photo(3)).await;
    w.act(
        "roads",
        id,
        "handle",
        json!({"note": "已临时加盖", "photos": [p]}),
    )
    .await;
    let c = w
        .act(
            "worker",
            id,
            "verify_fail",
            json!({"note": "临时盖板不牢固，需正式更换"}),
        )
        .await;
    assert_eq!(c["state"], "dispatched");
    assert_eq!(c["rework_count"], 1);
    let p = w.photo("roads", phone_photo(4)).await;
    w.act(
        "roads",
        id,
        "handle",
        json!({"note": "已更换正式井盖", "photos": [p]}),
    )
    .await;
    w.act("worker", id, "verify_pass", json!({})).await;
    let closed = w.act("secretary", id, "close", json!({})).await;
    // The public page tells what comes next; its reporter, signed in,
    // finds the rating form there, nobody else does.
    let public = format!("/c/{}", closed["public_code"].as_str().unwrap());
    let (_, anyone) = page(&w, None, &public).await;
    assert!(anyone.contains("已办结，欢迎评价") && !anyone.contains(r#"value="rate""#));
    let (_, neighbour) = page(&w, Some("neighbour"), &public).await;
    assert!(!neighbour.contains(r#"value="rate""#));
    let (_, reporter) = page(&w, Some("shopkeeper"), &public).await;
    assert!(reporter.contains(r#"value="rate""#) && reporter.contains(&format!("/cases/{id}/act")));
    // The reporter rates it, and sees only public entries.
    let c = w
        .act(
            "shopkeeper",
            id,
            "rate",
            json!({"rating": 4, "note": "处理及时"}),
        )
        .await;
    assert_eq!(c["state"], "rated");
    assert_eq!(c["rating"], 4);
    let timeline = c["timeline"].as_array().unwrap();
    assert!(
        timeline.iter().all(|e| e["public"] == true),
        "a resident sees public entries only"
    );
    assert!(!c.to_string().contains("雨水井归市政道路管理"));
    // Another resident cannot see it at all.
    let (s, _) = w
        .call(
            Some("neighbour"),
            Method::GET,
            &format!("/api/v1/cases/{id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn idempotency_scope_and_refusals(db: &TestDb) {
    let w = world(db).await;
    let (first, a) = w.report("worker", "same-key").await;
    let (again, b) = w.report("worker", "same-key").await;
    assert_eq!((first, again), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(a["id"], b["id"], "one case for one key");
    assert_eq!(a, b, "the answer at intake is the case as stored");
    let (s, mine) = w
        .call(Some("worker"), Method::GET, "/api/v1/cases", None, &[])
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let other = json!({"category": "0103", "description": "另一处井盖", "lat": w.drain.0, "lon": w.drain.1});
    let (s, e) = w
        .call(
            Some("worker"),
            Method::POST,
            "/api/v1/cases",
            Some(other),
            &[("idempotency-key", "same-key")],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["field"], "idempotency_key");
    // A required question left out, no location, unknown category.
    let (s, e) = w
        .call(
            Some("worker"),
            Method::POST,
            "/api/v1/cases",
            Some(json!({"category": "0103", "description": "井盖"})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = e["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["answers", "location"]);
    let (s, _) = w
        .call(
            Some("worker"),
            Method::POST,
            "/api/v1/cases",
            Some(json!({"category": "9999", "description": "x", "address": "y"})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let id = a["id"].as_i64().unwrap();
    // Nearby open cases of the same kind, nearest first; others are not offered.
    let near = |cat: &str, dlat: f64| {
        format!(
            "/api/v1/cases/nearby?category={cat}&lat={}&lon={}",
            w.drain.0 + dlat,
            w.drain.1
        )
    };
    let (s, list) = w
        .call(
            Some("worker2"),
            Method::GET,
            &near("0103", 0.0003),
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["public_code"], a["public_code"]);
    assert!(
        (list[0]["distance_m"].as_f64().unwrap() - 33.4).abs() < 1.0,
        "{}",
        list[0]
    );
    assert!(!list[0].to_string().contains("worker"), "public facts only");
    let (_, far) = w
        .call(Some("worker"), Method::GET, &near("0103", 0.002), None, &[])
        .await;
    assert!(
        far.as_array().unwrap().is_empty(),
        "200 m away is not a duplicate"
    );
    let (_, other_kind) = w
        .call(Some("worker"), Method::GET, &near("0104", 0.0), None, &[])
        .await;
    assert!(other_kind.as_array().unwrap().is_empty());
    // Out of scope: another grid's worker sees nothing.
    let (s, _) = w
        .call(
            Some("worker2"),
            Method::GET,
            &format!("/api/v1/cases/{id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Not allowed now: 409 with the reason, in Chinese by default.
    let (s, e) = w
        .call(
            Some("leader"),
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            Some(json!({"action": "close"})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["error"]["message"], "事件当前为“上报”，不能结案");
    let (s, e) = w
        .call(
            Some("leader"),
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            Some(json!({"action": "close"})),
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(
        e["error"]["message"],
        "cannot close a case that is reported"
    );
    // A stale version is a conflict.
    let (s, _) = w
        .call(
            Some("leader"),
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            Some(json!({"action": "accept", "version": 99})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    // Hang-up needs a review date; the clock stops while it lasts.
    w.act("secretary", id, "accept", json!({})).await;
    let (s, _) = w
        .call(
            Some("secretary"),
            Method::POST,
            &format!("/api/v1/cases/{id}/actions"),
            Some(json!({"action": "hang_up", "note": "待道路改造一并处理"})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let c = w
        .act(
            "secretary",
            id,
            "hang_up",
            json!({"note": "待道路改造一并处理", "review_on": "2026-12-15"}),
        )
        .await;
    assert_eq!(c["state"], "hung_up");
    assert_eq!(c["overall"]["due_zh"], "暂停计时");
    let c = w.act("secretary", id, "resume", json!({})).await;
    assert_eq!(c["state"], "accepted");
}

async fn form(
    w: &World,
    user: &str,
    uri: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String, Option<String>) {
    let cookie = format!("wangge_session={}", w.tokens[user]);
    let req = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(serde_urlencoded::to_string(fields).unwrap()))
        .unwrap();
    let res = w.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_owned());
    let body =
        String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned();
    (status, body, location)
}

async fn page(w: &World, user: Option<&str>, uri: &str) -> (StatusCode, String) {
    let mut req = Request::get(uri);
    if let Some(u) = user {
        req = req.header(header::COOKIE, format!("wangge_session={}", w.tokens[u]));
    }
    let res = w
        .router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    (
        status,
        String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned(),
    )
}

fn csrf_of(html: &str) -> String {
    let marker = r#"name="_csrf" value=""#;
    let start = html.find(marker).unwrap() + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The pages: report on the phone, act from the case page, follow publicly.
async fn the_case_pages(db: &TestDb) {
    let w = world(db).await;
    let (s, new) = page(&w, Some("worker"), "/cases/new").await;
    assert_eq!(s, StatusCode::OK);
    assert!(new.contains("雨水井盖") && new.contains("使用当前位置"));
    let csrf = csrf_of(&new);
    let (lat, lon) = (w.drain.0.to_string(), w.drain.1.to_string());
    let mut fields = vec![
        ("_csrf", csrf.as_str()),
        ("idempotency_key", "form-1"),
        ("category", "0103"),
        ("description", "13栋门前雨水井盖缺失"),
        ("lat", lat.as_str()),
        ("lon", lon.as_str()),
        ("urgency", "urgent"),
    ];
    let (s, body, _) = form(&w, "worker", "/cases/new", &fields).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "the required question");
    assert!(body.contains("请回答：人车流量大吗"));
    fields.push(("answer.traffic", "大"));
    let (s, _, to) = form(&w, "worker", "/cases/new", &fields).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let to = to.unwrap();
    // Submitting the same form twice files one case.
    let (_, _, again) = form(&w, "worker", "/cases/new", &fields).await;
    assert_eq!(again.unwrap(), to);
    // Another report of the same kind at the same spot is offered the open one first.
    let mut second = fields.clone();
    second[1] = ("idempotency_key", "form-2");
    let (s, offered, _) = form(&w, "worker", "/cases/new", &second).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        offered.contains("附近 100 米内已有同类事件") && offered.contains("/c/"),
        "{offered}"
    );
    second.push(("confirm_duplicate", "1"));
    let (s, _, other) = form(&w, "worker", "/cases/new", &second).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "filed anyway");
    assert_ne!(other.unwrap(), to);
    let (s, list) = page(&w, Some("worker"), "/cases").await;
    assert_eq!(s, StatusCode::OK);
    assert!(list.contains("light green") && list.contains("雨水井盖") && list.contains("还剩"));
    let (_, case) = page(&w, Some("leader"), &to).await;
    assert!(case.contains(r#"value="accept""#), "the leader may accept");
    let csrf = csrf_of(&case);
    let act = format!("{to}/act");
    let (s, _, _) = form(
        &w,
        "leader",
        &act,
        &[("_csrf", &csrf), ("action", "accept")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (s, refused, _) = form(&w, "leader", &act, &[("_csrf", &csrf), ("action", "close")]).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert!(refused.contains("不能结案"));
    let (s, _, _) = form(
        &w,
        "leader",
        &act,
        &[
            ("_csrf", &csrf),
            ("action", "dispatch"),
            ("department", "roads"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, case) = page(&w, Some("leader"), &to).await;
    assert!(case.contains("派遣") && case.contains("市政道路"));
    // The department finds it in its inbox, with a link to the case, and
    // the handling form asks for the after-photo.
    let (s, inbox) = page(&w, Some("roads"), "/inbox").await;
    assert_eq!(s, StatusCode::OK);
    assert!(inbox.contains("新派遣") && inbox.contains(&format!(r#"href="{to}""#)));
    let (_, handling) = page(&w, Some("roads"), &to).await;
    assert!(handling.contains(r#"enctype="multipart/form-data""#));
    assert!(handling.contains(r#"name="photo""#) && handling.contains(r#"capture="environment""#));
    let (s, _, _) = form(&w, "roads", "/inbox/read", &[("_csrf", &csrf_of(&inbox))]).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, inbox) = page(&w, Some("roads"), "/inbox?unread=1").await;
    assert!(inbox.contains("暂无消息"), "all read");
    let code_marker = "/c/";
    let start = case.find(code_marker).unwrap() + code_marker.len();
    let code: String = case[start..].chars().take_while(|c| *c != '"').collect();
    let (s, public) = page(&w, None, &format!("/c/{code}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        public.contains("市政道路") && public.contains("还剩"),
        "who holds it and how long is left"
    );
    assert!(!public.contains("worker"), "no reporter");
    let (s, _) = page(&w, None, "/c/nonexistent").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn photos_are_checked_by_content(db: &TestDb) {
    let w = world(db).await;
    let refused = |status: StatusCode, body: &[u8]| -> (StatusCode, String) {
        let v: Value = serde_json::from_slice(body).unwrap();
        (status, v["error"]["code"].as_str().unwrap().to_owned())
    };
    // Not a photo, whatever the Content-Type says.
    let (s, body) = w
        .raw(
            Some("worker"),
            Method::POST,
            "/api/v1/photos",
            b"GIF89a pretending".to_vec(),
        )
        .await;
    assert_eq!(
        refused(s, &body),
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_photo_type".into()
        )
    );
    // Too many bytes.
    let (s, body) = w
        .raw(
            Some("worker"),
            Method::POST,
            "/api/v1/photos",
            vec![0xFF; 10 * 1024 * 1024 + 2],
        )
        .await;
    assert_eq!(
        refused(s, &body),
        (StatusCode::PAYLOAD_TOO_LARGE, "photo_too_large".into())
    );
    // A pixel bomb.
    let (s, body) = w
        .raw(
            Some("worker"),
            Method::POST,
            "/api/v1/photos",
            wangge_testkit::photos::pixel_bomb(),
        )
        .await;
    assert_eq!(
        refused(s, &body),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "photo_too_many_pixels".into()
        )
    );
    // Anonymous uploads are refused.
    let (s, _) = w
        .raw(None, Method::POST, "/api/v1/photos", phone_photo(5))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // A good one is stored without its EXIF, with a thumbnail.
    let id = w.photo("worker", phone_photo(5)).await;
    let (s, stored) = w
        .raw(
            Some("worker"),
            Method::GET,
            &format!("/api/v1/photos/{id}"),
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(!contains(&stored, b"Exif") && !contains(&stored, CAMERA));
    assert!(!contains(&stored, &GPS_SECONDS.to_le_bytes()));
    let (s, thumb) = w
        .raw(
            Some("worker"),
            Method::GET,
            &format!("/api/v1/photos/{id}/thumbnail"),
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(thumb.len() < stored.len());
    // Unattached, it is its uploader's alone.
    let (s, _) = w
        .raw(
            Some("neighbour"),
            Method::GET,
            &format!("/api/v1/photos/{id}"),
            Vec::new(),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Refused photos stored nothing: the next id follows the good one.
    let next = w.photo("worker", phone_photo(6)).await;
    assert_eq!(next, id + 1);
}

async fn user_id(w: &World, name: &str) -> i64 {
    w.app
        .store()
        .user_by_username(name)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn messages(w: &World, name: &str) -> Vec<(String, String)> {
    w.app
        .store()
        .notifications(user_id(w, name).await, false, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.kind, n.message))
        .collect()
}

async fn the_sweeper_reminds_and_escalates_once(db: &TestDb) {
    let w = world(db).await;
    // Reported Monday 09:00; 雨水井盖 must be accepted within one hour.
    let (_, case) = w.report("worker", "s-1").await;
    let id = case["id"].as_i64().unwrap();
    w.app.ensure_sweeper().await.unwrap();
    let r = w.app.run_due_jobs("node-a").await.unwrap();
    assert_eq!((r.sweeps, r.sweep.reminders, r.sweep.overdue), (1, 0, 0));
    // A second node finds nothing to do: the sweep is leased, then rescheduled.
    assert_eq!(w.app.run_due_jobs("node-b").await.unwrap().sweeps, 0);

    // 09:50: 83 % of the hour is gone: the grid leader is reminded.
    w.clock.set("2026-11-30T01:50:00Z".parse().unwrap());
    let r = w.app.run_due_jobs("node-b").await.unwrap();
    assert_eq!((r.sweeps, r.sweep.reminders, r.sweep.overdue), (1, 1, 0));
    assert!(
        messages(&w, "leader")
            .await
            .iter()
            .any(|(k, m)| k == "reminder" && m.contains("立案环节即将超时")),
        "{:?}",
        messages(&w, "leader").await
    );
    // 10:10: overdue. Nobody accepted it: it goes up to the community.
    w.clock.set("2026-11-30T02:10:00Z".parse().unwrap());
    let r = w.app.run_due_jobs("node-a").await.unwrap();
    assert_eq!(
        (r.sweep.reminders, r.sweep.overdue, r.sweep.escalated),
        (0, 1, 1)
    );
    let stored = w.app.store().case(id).await.unwrap().unwrap();
    assert_eq!(stored.level, "community");
    let events = w.app.store().case_events(id).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!((last.action.as_str(), last.actor_id), ("escalate", None));
    assert!(last.note.contains("系统自动上报"));
    assert!(
        messages(&w, "secretary")
            .await
            .iter()
            .any(|(k, m)| k == "overdue" && m.contains("已自动上报至社区"))
    );
    // Once only: later sweeps raise nothing new for the same step.
    w.clock.set("2026-11-30T02:20:00Z".parse().unwrap());
    let r = w.app.run_due_jobs("node-a").await.unwrap();
    assert_eq!(r.sweeps, 1);
    assert_eq!((r.sweep.reminders, r.sweep.overdue), (0, 0));
    assert_eq!(
        w.app.store().case(id).await.unwrap().unwrap().level,
        "community"
    );
    // The worker who reported it was never paged about acceptance.
    assert!(messages(&w, "worker").await.is_empty());
    // An upload never attached to anything is gone after a day.
    let orphan = w.app.store().insert_photo(wangge_store::NewPhoto {
        uploaded_by: user_id(&w, "worker").await,
        at: "2026-11-30T02:20:00Z".parse().unwrap(),
        content_type: "image/jpeg".into(),
        width: 1,
        height: 1,
        bytes: vec![1],
        thumbnail: vec![1],
    });
    let orphan = orphan.await.unwrap();
    w.clock.set("2026-12-01T02:21:00Z".parse().unwrap());
    let r = w.app.run_due_jobs("node-a").await.unwrap();
    assert_eq!(r.sweep.orphan_photos, 1);
    assert!(w.app.store().photo_meta(orphan).await.unwrap().is_none());
}

/// A receiver of webhooks: every request's headers and body.
async fn receiver() -> (
    String,
    Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, String)>>>,
) {
    let got = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push((headers, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

async fn webhooks_are_signed_retried_and_logged(db: &TestDb) {
    let w = world(db).await;
    let (url, got) = receiver().await;
    let body = json!({"name": "企业微信机器人", "url": url, "events": ["case.dispatched"]});
    let (s, _) = w
        .call(
            Some("secretary"),
            Method::POST,
            "/api/v1/webhooks",
            Some(body.clone()),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "administrators only");
    let (s, bad) = w
        .call(
            Some("admin"),
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"name": "x", "url": "ftp://example.org", "events": []})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad["error"]["field"], "url");
    let (s, hook) = w
        .call(
            Some("admin"),
            Method::POST,
            "/api/v1/webhooks",
            Some(body),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{hook}");
    let secret = hook["secret"].as_str().unwrap().to_owned();
    let stored = w.app.store().webhooks().await.unwrap();
    assert!(
        !stored[0].secret.contains(&secret),
        "the signing secret is kept encrypted"
    );
    // A second one at an address where nobody listens.
    let (s, dead) = w
        .call(
            Some("admin"),
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"name": "down", "url": "http://127.0.0.1:9/", "events": ["*"]})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let dead_id = dead["webhook"]["id"].as_i64().unwrap();

    let (_, case) = w.report("worker", "w-1").await;
    let id = case["id"].as_i64().unwrap();
    w.act("leader", id, "accept", json!({})).await;
    w.act("leader", id, "dispatch", json!({"department": "roads"}))
        .await;
    let r = w.app.run_due_jobs("node-a").await.unwrap();
    assert_eq!(r.delivered, 1, "{r:?}");
    assert_eq!(r.retried, 3, "report, accept and dispatch to the dead one");
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (headers, body) = &got[0];
    assert_eq!(headers["x-wangge-event"], "case.dispatched");
    let ts: i64 = headers["x-wangge-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        headers["x-wangge-signature"].to_str().unwrap(),
        wangge_app::webhooks::signature(&secret, ts, body)
    );
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["case"]["id"], id);
    assert_eq!(event["case"]["department"], "roads");
    assert_eq!(event["case"]["state"], "dispatched");
    assert!(!body.contains("worker") && event["case"].get("reporter_id").is_none());

    // The log shows each attempt and that it will be retried.
    let (s, log) = w
        .call(
            Some("admin"),
            Method::GET,
            &format!("/api/v1/webhooks/{dead_id}/deliveries"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 3);
    assert!(
        log.iter()
            .all(|a| a["delivery_state"] == "queued" && a["status"].is_null())
    );
    let (s, _) = w
        .call(
            Some("admin"),
            Method::POST,
            &format!("/api/v1/webhooks/{}", hook["webhook"]["id"]),
            Some(json!({"active": false})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "switched off");

    // The dead one is retried with backoff, then given up.
    for minutes in [1, 3, 13, 73, 433, 800] {
        w.clock.set(
            "2026-11-30T01:00:00Z"
                .parse::<jiff::Timestamp>()
                .unwrap()
                .checked_add(jiff::SignedDuration::from_mins(minutes))
                .unwrap(),
        );
        w.app.run_due_jobs("node-a").await.unwrap();
    }
    let log = w.app.store().webhook_attempts(dead_id, 100).await.unwrap();
    assert_eq!(log.len(), 18, "six attempts for each of three events");
    assert!(
        log.iter()
            .all(|a| a.attempt.status.is_none() && a.attempt.error.is_some())
    );
    assert!(log.iter().all(|a| a.job_state == "failed"));
    // The switched-off one is sent nothing more.
    let roads = Actor {
        user_id: user_id(&w, "roads").await,
        role: Role::DepartmentStaff,
        grids: vec![],
        communities: vec![],
        streets: vec![],
        departments: vec![case_department(&w, id).await],
    };
    let form = wangge_app::cases::ActForm {
        note: "不归本部门".into(),
        ..Default::default()
    };
    w.app
        .act_on_case(&roads, id, wangge_core::workflow::Action::Return, &form)
        .await
        .unwrap();
    let leader = Actor {
        user_id: user_id(&w, "leader").await,
        role: Role::GridLeader,
        grids: vec![
            w.app
                .store()
                .case(id)
                .await
                .unwrap()
                .unwrap()
                .grid_id
                .unwrap(),
        ],
        communities: vec![],
        streets: vec![],
        departments: vec![],
    };
    w.app
        .act_on_case(
            &leader,
            id,
            wangge_core::workflow::Action::Dispatch,
            &Default::default(),
        )
        .await
        .unwrap();
    let queued: i64 = w
        .app
        .store()
        .job_counts()
        .await
        .unwrap()
        .into_iter()
        .filter(|(kind, state, _)| kind == "webhook" && state == "queued")
        .map(|(_, _, n)| n)
        .sum();
    assert_eq!(
        queued, 2,
        "the return and the new dispatch go to the dead hook (all events), \
         not to the one switched off"
    );
}

async fn case_department(w: &World, id: i64) -> i64 {
    w.app
        .store()
        .case(id)
        .await
        .unwrap()
        .unwrap()
        .department_id
        .unwrap()
}

async fn admins_edit_categories_and_the_calendar(db: &TestDb) {
    let w = world(db).await;
    let edit = json!({
        "department": "water",
        "overall": {"unit": "working_hours", "amount": 8},
        "steps": {"acceptance": {"unit": "calendar_hours", "amount": 2}},
    });
    let (s, _) = w
        .call(
            Some("secretary"),
            Method::PUT,
            "/api/v1/categories/0103",
            Some(edit.clone()),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "administrators only");
    let (s, c) = w
        .call(
            Some("admin"),
            Method::PUT,
            "/api/v1/categories/0103",
            Some(edit),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["limit"], json!({"unit": "working_hours", "amount": 8}));
    assert_eq!(
        c["steps"]["acceptance"],
        json!({"unit": "calendar_hours", "amount": 2})
    );
    let (s, bad) = w
        .call(
            Some("admin"),
            Method::PUT,
            "/api/v1/categories/0103",
            Some(json!({"overall": {"unit": "working_hours", "amount": 0}})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    // New cases follow the edit: routed to water, eight working hours.
    let (_, case) = w.report("worker", "e-1").await;
    let id = case["id"].as_i64().unwrap();
    assert_eq!(case["department"], "供排水");
    let before = case["overall"]["deadline"].as_str().unwrap().to_owned();

    // Monday becomes a holiday: the deadline moves past it.
    let (s, _) = w
        .call(
            Some("admin"),
            Method::PUT,
            "/api/v1/calendar/2026-11-30",
            Some(json!({"kind": "holiday", "name": "社区测试假日"})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, days) = w
        .call(Some("worker"), Method::GET, "/api/v1/calendar", None, &[])
        .await;
    assert!(
        days.as_array()
            .unwrap()
            .iter()
            .any(|d| d["day"] == "2026-11-30" && d["kind"] == "holiday")
    );
    let (_, case) = w
        .call(
            Some("worker"),
            Method::GET,
            &format!("/api/v1/cases/{id}"),
            None,
            &[],
        )
        .await;
    let after = case["overall"]["deadline"].as_str().unwrap().to_owned();
    assert!(
        after.parse::<jiff::Timestamp>().unwrap() > before.parse::<jiff::Timestamp>().unwrap(),
        "{before} → {after}"
    );
    let (s, bad) = w
        .call(
            Some("admin"),
            Method::PUT,
            "/api/v1/calendar/2026-12-01",
            Some(json!({"kind": "party", "name": "x"})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["error"]["field"], "kind");
    let (s, _) = w
        .call(
            Some("admin"),
            Method::DELETE,
            "/api/v1/calendar/2026-11-30",
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, case) = w
        .call(
            Some("worker"),
            Method::GET,
            &format!("/api/v1/cases/{id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(
        case["overall"]["deadline"],
        before.as_str(),
        "back as it was"
    );
    let (s, _) = w
        .call(
            Some("admin"),
            Method::DELETE,
            "/api/v1/calendar/2026-11-30",
            None,
            &[],
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an ordinary day already"
    );
}

async fn a_duplicate_is_merged_into_the_case_it_repeats(db: &TestDb) {
    let w = world(db).await;
    let (_, first) = w.report("shopkeeper", "m-1").await;
    let (_, second) = w.report("worker", "m-2").await;
    let (a, b) = (
        first["id"].as_i64().unwrap(),
        second["id"].as_i64().unwrap(),
    );
    let merge = |into: Value| json!({"action": "merge", "note": "同一个井盖", "merge_into": into});
    for (into, why) in [
        (Value::Null, "no target"),
        (json!(b.to_string()), "itself"),
        (json!("no-such-code"), "unknown"),
    ] {
        let (s, e) = w
            .call(
                Some("leader"),
                Method::POST,
                &format!("/api/v1/cases/{b}/actions"),
                Some(merge(into)),
                &[],
            )
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {e}");
        assert_eq!(e["error"]["field"], "merge_into", "{why}");
    }
    let (s, _) = w
        .call(
            Some("worker"),
            Method::POST,
            &format!("/api/v1/cases/{b}/actions"),
            Some(merge(first["public_code"].clone())),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "grid workers do not merge");
    let merged = w
        .act("leader", b, "merge", merge(first["public_code"].clone()))
        .await;
    assert_eq!(merged["state"], "merged");
    assert_eq!(merged["merged_into"], a);
    assert!(
        merged["actions"].as_array().unwrap().is_empty(),
        "nothing more to do"
    );
    assert_eq!(merged["overall"]["due_zh"], "已办结");
    // Its reporter is told, and its public page leads to the one that goes on.
    assert!(
        w.inbox("worker")
            .await
            .iter()
            .any(|m| m["kind"] == "merged")
    );
    let (_, public) = w
        .call(
            None,
            Method::GET,
            &format!(
                "/api/v1/public/cases/{}",
                merged["public_code"].as_str().unwrap()
            ),
            None,
            &[],
        )
        .await;
    assert_eq!(public["merged_into"], first["public_code"]);
    // It is no longer offered as a likely duplicate; the first one is.
    let (_, near) = w
        .call(
            Some("worker"),
            Method::GET,
            &format!(
                "/api/v1/cases/nearby?category=0103&lat={}&lon={}",
                w.drain.0, w.drain.1
            ),
            None,
            &[],
        )
        .await;
    let codes: Vec<&Value> = near
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["public_code"])
        .collect();
    assert_eq!(codes, vec![&first["public_code"]]);
}

async fn the_administration_pages(db: &TestDb) {
    let w = world(db).await;
    let (s, _) = page(&w, Some("secretary"), "/admin/categories").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, list) = page(&w, Some("admin"), "/admin/categories").await;
    assert_eq!(s, StatusCode::OK);
    assert!(list.contains("雨水井盖") && list.contains(r#"href="/admin/categories/0103""#));
    let (_, edit) = page(&w, Some("admin"), "/admin/categories/0103").await;
    let csrf = csrf_of(&edit);
    let mut fields = vec![
        ("_csrf", csrf.as_str()),
        ("name", "雨水井盖"),
        ("department", "roads"),
        ("overall_amount", "2"),
        ("overall_unit", "working_days"),
        ("handling_amount", "8"),
        ("handling_unit", "working_hours"),
        ("closure", "井盖已补齐"),
        ("public", "1"),
        ("active", "1"),
    ];
    let (s, _, to) = form(&w, "admin", "/admin/categories/0103", &fields).await;
    assert_eq!(
        (s, to.as_deref()),
        (StatusCode::SEE_OTHER, Some("/admin/categories"))
    );
    let (_, cats) = w
        .call(Some("worker"), Method::GET, "/api/v1/categories", None, &[])
        .await;
    let drain = cats
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "0103")
        .unwrap()
        .clone();
    assert_eq!(drain["limit"], json!({"unit": "working_days", "amount": 2}));
    assert_eq!(
        drain["steps"],
        json!({"handling": {"unit": "working_hours", "amount": 8}})
    );
    fields[3] = ("overall_amount", "0");
    let (s, again, _) = form(&w, "admin", "/admin/categories/0103", &fields).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.contains("类别设置有误"), "{again}");
    // The calendar: add a day, see it, remove it.
    let add = [
        ("_csrf", csrf.as_str()),
        ("day", "2026-12-24"),
        ("kind", "holiday"),
        ("name", "社区活动日"),
    ];
    let (s, _, _) = form(&w, "admin", "/admin/calendar", &add).await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, cal) = page(&w, Some("admin"), "/admin/calendar").await;
    assert!(cal.contains("2026-12-24") && cal.contains("社区活动日"));
    assert!(cal.contains("2026-10-01"), "the seeded national holidays");
    let (s, _, _) = form(
        &w,
        "admin",
        "/admin/calendar",
        &[("_csrf", &csrf), ("remove", "2026-12-24")],
    )
    .await;
    assert_eq!(s, StatusCode::SEE_OTHER);
    let (_, cal) = page(&w, Some("admin"), "/admin/calendar").await;
    assert!(!cal.contains("社区活动日"));
    // Webhooks: the secret is shown once, on adding.
    let (s, added, _) = form(
        &w,
        "admin",
        "/admin/webhooks",
        &[
            ("_csrf", &csrf),
            ("name", "钉钉群"),
            ("url", "https://example.org/robot"),
            ("events", "case.closed"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(added.contains("只显示这一次") && added.contains("钉钉群"));
    let (_, list) = page(&w, Some("admin"), "/admin/webhooks").await;
    assert!(list.contains("钉钉群") && !list.contains("只显示这一次"));
    // Open311 keys: shown once, revoked at once.
    let (s, _) = page(&w, Some("secretary"), "/admin/apikeys").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, created, _) = form(
        &w,
        "admin",
        "/admin/apikeys",
        &[("_csrf", &csrf), ("name", "civic-app")],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let marker = r#"<code id="new-key">"#;
    let start = created.find(marker).unwrap() + marker.len();
    let key = created[start..].split('<').next().unwrap().to_owned();
    assert!(key.starts_with("w311_"));
    assert!(w.app.api_key(&key).await.unwrap().is_some());
    let (_, listed) = page(&w, Some("admin"), "/admin/apikeys").await;
    assert!(listed.contains("civic-app") && !listed.contains(&key));
    let (s, revoked, _) = form(
        &w,
        "admin",
        "/admin/apikeys",
        &[("_csrf", &csrf), ("revoke", "civic-app")],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(revoked.contains("已吊销"));
    assert!(
        w.app.api_key(&key).await.unwrap().is_none(),
        "a revoked key opens nothing"
    );
}

async fn routing_rules_send_cases_by_place(db: &TestDb) {
    let w = world(db).await;
    let communities = w.app.list_communities().await.unwrap();
    let chunhui = communities
        .iter()
        .find(|c| c.community.name == "春晖社区")
        .unwrap();
    let there = w
        .app
        .store()
        .all_buildings()
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.community_id == chunhui.community.id)
        .unwrap()
        .location;
    let rule = json!({"category": "0103", "place": chunhui.community.code.to_string(), "department": "water"});
    let (s, _) = w
        .call(
            Some("secretary"),
            Method::POST,
            "/api/v1/routing-rules",
            Some(rule.clone()),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, created) = w
        .call(
            Some("admin"),
            Method::POST,
            "/api/v1/routing-rules",
            Some(rule.clone()),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let (s, _) = w
        .call(
            Some("admin"),
            Method::POST,
            "/api/v1/routing-rules",
            Some(rule),
            &[],
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "one rule per category and place"
    );
    // A rule for every public facility anywhere, less specific.
    let (s, _) = w
        .call(
            Some("admin"),
            Method::POST,
            "/api/v1/routing-rules",
            Some(json!({"category": "01", "department": "green"})),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, bad) = w
        .call(
            Some("admin"),
            Method::POST,
            "/api/v1/routing-rules",
            Some(json!({"category": "99", "department": "water"})),
            &[],
        )
        .await;
    assert_eq!(
        (s, bad["error"]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("category"))
    );

    // In 春晖 a storm drain goes to water; in 和平, to green (the 01 rule).
    let report = |lat: f64, lon: f64, key: &'static str| {
        let body = json!({"category": "0103", "description": "雨水井盖缺失", "lat": lat, "lon": lon,
                          "answers": {"traffic": ["大"]}});
        let w = &w;
        async move {
            w.call(
                Some("neighbour"),
                Method::POST,
                "/api/v1/cases",
                Some(body),
                &[("idempotency-key", key)],
            )
            .await
            .1
        }
    };
    assert_eq!(
        report(there.lat, there.lon, "r-a").await["department"],
        "供排水"
    );
    assert_eq!(
        report(w.drain.0, w.drain.1, "r-b").await["department"],
        "园林绿化"
    );
    // Other kinds keep their category's department.
    let body = json!({"category": "E0101", "description": "楼道口垃圾", "lat": there.lat, "lon": there.lon});
    let (_, other) = w
        .call(
            Some("neighbour"),
            Method::POST,
            "/api/v1/cases",
            Some(body),
            &[],
        )
        .await;
    assert_ne!(other["department"], "供排水");

    let (_, rules) = w
        .call(
            Some("admin"),
            Method::GET,
            "/api/v1/routing-rules",
            None,
            &[],
        )
        .await;
    assert_eq!(rules.as_array().unwrap().len(), 2);
    assert_eq!(rules[1]["place_name"], "春晖社区");
    let (_, page_html) = page(&w, Some("admin"), "/admin/categories").await;
    assert!(page_html.contains("分派规则") && page_html.contains("春晖社区"));
    let id = created["id"].as_i64().unwrap();
    let (s, _) = w
        .call(
            Some("admin"),
            Method::DELETE,
            &format!("/api/v1/routing-rules/{id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        report(there.lat, there.lon, "r-c").await["department"],
        "园林绿化"
    );
}

both_backends!(
    routing_rules_send_cases_by_place,
    the_administration_pages,
    a_duplicate_is_merged_into_the_case_it_repeats,
    admins_edit_categories_and_the_calendar,
    photos_are_checked_by_content,
    the_sweeper_reminds_and_escalates_once,
    webhooks_are_signed_retried_and_logged,
    the_case_pages,
    the_storm_drain_is_replaced_and_rated,
    a_return_and_a_failed_check_send_it_back,
    idempotency_scope_and_refusals,
);
