//! Sign-in, the access policy over the register, privacy and audit, over
//! HTTP on both backends.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tower::ServiceExt;
use wangge_app::{App, FixedClock, ImportOptions, UserSpec, Vault};
use wangge_core::idnumber::check_char;
use wangge_core::policy::{Actor, Role};
use wangge_core::register::{BusinessForm, ResidentForm};
use wangge_store::ScopeKind;
use wangge_testkit::{TestDb, both_backends};

const NOW: &str = "2026-11-29T09:00:00Z";

fn id_number(first17: &str) -> String {
    format!("{first17}{}", check_char(first17.as_bytes()) as char)
}

/// Full numbers used in the fixture; none may appear in storage or output.
fn secrets() -> Vec<String> {
    vec![
        id_number("34017119800101001"),
        id_number("34017120150601002"),
        id_number("34017119750505003"),
        "13800001111".into(),
        "13800002222".into(),
        "13800003333".into(),
    ]
}

struct World {
    router: Router,
    app: Arc<App>,
    clock: Arc<FixedClock>,
    tokens: HashMap<&'static str, String>,
    passwords: HashMap<&'static str, String>,
    grid1: i64,
    r1: i64,
    m1: i64,
    r3: i64,
    h1: i64,
    h3: i64,
    b1: i64,
    b3: i64,
}

fn resident_form(name: &str, id: &str, phone: &str) -> ResidentForm {
    ResidentForm {
        name: name.into(),
        id_number: id.into(),
        phone: Some(phone.into()),
        ethnicity: "汉族".into(),
        residence_type: "registered".into(),
        relation: "head".into(),
        political_status: "masses".into(),
        tags: vec![],
    }
}

fn business_form(name: &str, code: &str) -> BusinessForm {
    BusinessForm {
        name: name.into(),
        credit_code: code.into(),
        legal_rep: "王建国".into(),
        phone: Some("13900001234".into()),
        address: "和平路 26 号".into(),
        opening_date: Some("2026-10-08".into()),
        status: "open".into(),
        app_status: "unable".into(),
        app_reason: Some("id_card_replaced".into()),
        app_note: String::new(),
    }
}

fn credit_code(first17: &str) -> String {
    let c = wangge_core::creditcode::check_char(first17.as_bytes()).unwrap();
    format!("{first17}{}", c as char)
}

/// The demo's geography, a second street far away, one household with an
/// adult and a minor in grid 1, one household in the other street, a
/// business in each, and one signed-in user per role.
async fn world(db: &TestDb) -> World {
    let clock = Arc::new(FixedClock::new(NOW.parse().unwrap()));
    let app = App::new(
        db.store.clone(),
        clock.clone(),
        Vault::from_master_key(&[7; 32]),
    )
    .await
    .unwrap();
    app.load_demo_geography().await.unwrap();
    let far = json!({"type": "FeatureCollection", "features": [{
        "type": "Feature",
        "properties": {"code": "34017100200101", "name": "远方网格", "community_name": "远方社区", "street_name": "远方街道"},
        "geometry": {"type": "Polygon", "coordinates": [[[118.0, 32.0], [118.01, 32.0], [118.01, 32.01], [118.0, 32.01], [118.0, 32.0]]]}
    }]});
    app.import_boundaries(far.to_string().as_bytes(), ImportOptions::default())
        .await
        .unwrap();
    let communities = app.list_communities().await.unwrap();
    let grids = app.list_grids(None).await.unwrap();
    let c1 = &communities[0];
    let far_c = communities
        .iter()
        .find(|c| c.community.code.as_str() == "340171002001")
        .unwrap();
    let grid1 = grids[0].grid.id;
    let grid2 = grids[1].grid.id;
    let far_grid = grids
        .iter()
        .find(|g| g.grid.code.as_str() == "34017100200101")
        .unwrap()
        .grid
        .id;
    let secretary = |community: i64| Actor {
        user_id: 0,
        role: Role::CommunitySecretary,
        grids: vec![],
        communities: vec![community],
        streets: vec![],
        departments: vec![],
    };
    let s1 = secretary(c1.community.id);
    let s3 = secretary(far_c.community.id);
    let h1 = app
        .create_household(&s1, grid1, None, "和平路 10 号 1 单元 101 室")
        .await
        .unwrap();
    let r1 = app
        .create_resident(
            &s1,
            h1,
            &resident_form("李明芳", &secrets()[0], &secrets()[3]),
        )
        .await
        .unwrap();
    let mut minor = resident_form("李雨桐", &secrets()[1], &secrets()[4]);
    minor.relation = "child".into();
    let m1 = app.create_resident(&s1, h1, &minor).await.unwrap();
    let h3 = app
        .create_household(&s3, far_grid, None, "远方路 1 号")
        .await
        .unwrap();
    let r3 = app
        .create_resident(
            &s3,
            h3,
            &resident_form("赵远方", &secrets()[2], &secrets()[5]),
        )
        .await
        .unwrap();
    let b1 = app
        .create_business(
            &s1,
            grid1,
            &business_form("老王便利店", &credit_code("92340171MA2N0K3L1")),
        )
        .await
        .unwrap();
    let b3 = app
        .create_business(
            &s3,
            far_grid,
            &business_form("远方面馆", &credit_code("92340171MA2N0K3L2")),
        )
        .await
        .unwrap();
    let roads = app
        .store()
        .insert_department("roads", "市政道路")
        .await
        .unwrap();

    let users: Vec<(&'static str, Role, Vec<(ScopeKind, i64)>)> = vec![
        ("admin", Role::Admin, vec![]),
        (
            "street",
            Role::StreetOfficer,
            vec![(ScopeKind::Street, c1.community.street_id)],
        ),
        (
            "secretary",
            Role::CommunitySecretary,
            vec![(ScopeKind::Community, c1.community.id)],
        ),
        (
            "leader",
            Role::GridLeader,
            vec![(ScopeKind::Grid, grid1), (ScopeKind::Grid, grid2)],
        ),
        ("worker", Role::GridWorker, vec![(ScopeKind::Grid, grid1)]),
        ("worker2", Role::GridWorker, vec![(ScopeKind::Grid, grid2)]),
        (
            "unitleader",
            Role::UnitLeader,
            vec![(ScopeKind::Grid, grid1)],
        ),
        ("volunteer", Role::Volunteer, vec![(ScopeKind::Grid, grid1)]),
        (
            "department",
            Role::DepartmentStaff,
            vec![(ScopeKind::Department, roads)],
        ),
        ("resident", Role::Resident, vec![]),
    ];
    let mut tokens = HashMap::new();
    let mut passwords = HashMap::new();
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
        let ok = app.login(name, &password, None).await.unwrap();
        tokens.insert(name, ok.token);
        passwords.insert(name, password);
    }
    World {
        router: wangge_web::router(app.clone()),
        app,
        clock,
        tokens,
        passwords,
        grid1,
        r1,
        m1,
        r3,
        h1,
        h3,
        b1,
        b3,
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

async fn call(
    router: &Router,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = match body {
        Some(b) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let res = router
        .clone()
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

impl World {
    async fn as_user(&self, user: &str, method: Method, uri: &str, body: Option<Value>) -> Reply {
        let auth = format!("Bearer {}", self.tokens[user]);
        call(
            &self.router,
            method,
            uri,
            &[("authorization", auth.as_str())],
            body,
        )
        .await
    }

    async fn get(&self, user: &str, uri: &str) -> Reply {
        self.as_user(user, Method::GET, uri, None).await
    }

    /// A resident body with the current version, as the secretary reads it.
    async fn resident_update(&self, id: i64, owner: &str, name: &str) -> Value {
        let current = self
            .get(owner, &format!("/api/v1/residents/{id}"))
            .await
            .json();
        json!({
            "name": name,
            "id_number": "",
            "ethnicity": "汉族",
            "residence_type": "registered",
            "relation": current["relation"],
            "political_status": "masses",
            "version": current["version"],
        })
    }
}

const ROLES: [&str; 9] = [
    "admin",
    "street",
    "secretary",
    "leader",
    "worker",
    "unitleader",
    "volunteer",
    "department",
    "resident",
];

fn can_read(user: &str) -> bool {
    matches!(user, "street" | "secretary" | "leader" | "worker")
}

fn can_write(user: &str) -> bool {
    matches!(user, "secretary" | "leader" | "worker")
}

fn ids_in(list: &Value) -> Vec<i64> {
    list.as_array()
        .map(|a| a.iter().filter_map(|x| x["id"].as_i64()).collect())
        .unwrap_or_default()
}

/// Every role × list / read / update of residents, households and
/// businesses × own scope / other scope. Fails if any query loses its scope.
async fn the_access_matrix_holds(db: &TestDb) {
    let w = world(db).await;
    for user in ROLES {
        // Residents: read.
        let own = w.get(user, &format!("/api/v1/residents/{}", w.r1)).await;
        let expected = if can_read(user) {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(own.status, expected, "{user} reads own resident");
        let other = w.get(user, &format!("/api/v1/residents/{}", w.r3)).await;
        assert_eq!(
            other.status,
            StatusCode::NOT_FOUND,
            "{user} reads other resident"
        );
        // Residents: list, whole scope and by grid.
        let list = w.get(user, "/api/v1/residents?limit=200").await;
        assert_eq!(list.status, StatusCode::OK, "{user} lists residents");
        let ids = ids_in(&list.json());
        assert_eq!(
            ids.contains(&w.r1),
            can_read(user),
            "{user} lists own resident"
        );
        assert!(!ids.contains(&w.r3), "{user} lists other resident");
        // Households.
        let own = w.get(user, &format!("/api/v1/households/{}", w.h1)).await;
        assert_eq!(own.status, expected, "{user} reads own household");
        let other = w.get(user, &format!("/api/v1/households/{}", w.h3)).await;
        assert_eq!(
            other.status,
            StatusCode::NOT_FOUND,
            "{user} reads other household"
        );
        let ids = ids_in(&w.get(user, "/api/v1/households?limit=200").await.json());
        assert_eq!(
            ids.contains(&w.h1),
            can_read(user),
            "{user} lists own household"
        );
        assert!(!ids.contains(&w.h3), "{user} lists other household");
        // Businesses.
        let own = w.get(user, &format!("/api/v1/businesses/{}", w.b1)).await;
        assert_eq!(own.status, expected, "{user} reads own business");
        let other = w.get(user, &format!("/api/v1/businesses/{}", w.b3)).await;
        assert_eq!(
            other.status,
            StatusCode::NOT_FOUND,
            "{user} reads other business"
        );
        let ids = ids_in(&w.get(user, "/api/v1/businesses?limit=200").await.json());
        assert_eq!(
            ids.contains(&w.b1),
            can_read(user),
            "{user} lists own business"
        );
        assert!(!ids.contains(&w.b3), "{user} lists other business");

        // Updates.
        let body = w
            .resident_update(w.r1, "secretary", &format!("李明芳{user}"))
            .await;
        let r = w
            .as_user(
                user,
                Method::PUT,
                &format!("/api/v1/residents/{}", w.r1),
                Some(body),
            )
            .await;
        let expected_write = if can_write(user) {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(
            r.status, expected_write,
            "{user} updates own resident: {}",
            r.body
        );
        let mut body = w.resident_update(w.r1, "secretary", "赵远方").await;
        body["version"] = json!(1);
        let r = w
            .as_user(
                user,
                Method::PUT,
                &format!("/api/v1/residents/{}", w.r3),
                Some(body),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{user} updates other resident"
        );
        let r = w
            .as_user(
                user,
                Method::PUT,
                &format!("/api/v1/households/{}", w.h1),
                Some(json!({"address": format!("和平路 10 号 {user}")})),
            )
            .await;
        assert_eq!(r.status, expected_write, "{user} updates own household");
        let r = w
            .as_user(
                user,
                Method::PUT,
                &format!("/api/v1/households/{}", w.h3),
                Some(json!({"address": "x"})),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{user} updates other household"
        );
        let version = w
            .get("secretary", &format!("/api/v1/businesses/{}", w.b1))
            .await
            .json()["version"]
            .clone();
        let mut body = json!({
            "name": format!("老王便利店{user}"), "credit_code": credit_code("92340171MA2N0K3L1"),
            "legal_rep": "王建国", "address": "和平路 26 号", "status": "open",
            "app_status": "registered", "version": version,
        });
        let r = w
            .as_user(
                user,
                Method::PUT,
                &format!("/api/v1/businesses/{}", w.b1),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            r.status, expected_write,
            "{user} updates own business: {}",
            r.body
        );
        body["credit_code"] = json!(credit_code("92340171MA2N0K3L2"));
        body["version"] = json!(1);
        let r = w
            .as_user(
                user,
                Method::PUT,
                &format!("/api/v1/businesses/{}", w.b3),
                Some(body),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{user} updates other business"
        );
    }
    // A grid worker of another grid of the same community sees nothing of grid 1.
    assert_eq!(
        w.get("worker2", &format!("/api/v1/residents/{}", w.r1))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let _ = w.grid1;
}

async fn minors_need_the_stricter_permission(db: &TestDb) {
    let w = world(db).await;
    let minor = format!("/api/v1/residents/{}", w.m1);
    assert_eq!(
        w.get("street", &minor).await.status,
        StatusCode::NOT_FOUND,
        "street officers see no minors"
    );
    let listed = ids_in(&w.get("street", "/api/v1/residents?limit=200").await.json());
    assert!(listed.contains(&w.r1) && !listed.contains(&w.m1));
    let seen = w.get("worker", &minor).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(seen.json()["is_minor"], true);
    let reveal = json!({"field": "id_number", "reason": "核对入学资助材料"});
    let r = w
        .as_user(
            "worker",
            Method::POST,
            &format!("{minor}/reveal"),
            Some(reveal.clone()),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a grid worker cannot reveal a minor's number"
    );
    let r = w
        .as_user(
            "secretary",
            Method::POST,
            &format!("{minor}/reveal"),
            Some(reveal),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["value"], secrets()[1]);
}

async fn outputs_are_masked_and_reveals_audited(db: &TestDb) {
    let w = world(db).await;
    let r = w
        .get("worker", &format!("/api/v1/residents/{}", w.r1))
        .await;
    let full_id = &secrets()[0];
    assert_eq!(
        r.json()["id_number"],
        format!("{}***********{}", &full_id[..3], &full_id[14..])
    );
    assert_eq!(r.json()["phone"], "138****1111");
    for s in secrets() {
        assert!(!r.body.contains(&s), "unmasked {s} in output");
    }
    assert!(
        !r.body.contains("19800101"),
        "birth-date digits of the ID never show in the masked ID"
    );

    let path = format!("/api/v1/residents/{}/reveal", w.r1);
    let no_reason = w
        .as_user(
            "worker",
            Method::POST,
            &path,
            Some(json!({"field": "phone", "reason": " "})),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_reason.json()["error"]["field"], "reason");
    let street = w
        .as_user(
            "street",
            Method::POST,
            &path,
            Some(json!({"reason": "抽查"})),
        )
        .await;
    assert_eq!(
        street.status,
        StatusCode::NOT_FOUND,
        "street officers read, never reveal"
    );
    let ok = w
        .as_user(
            "worker",
            Method::POST,
            &path,
            Some(json!({"field": "phone", "reason": "电话回访"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.json()["value"], "13800001111");
    let ok = w
        .as_user(
            "worker",
            Method::POST,
            &path,
            Some(json!({"field": "id_number", "reason": "办理资助申请"})),
        )
        .await;
    assert_eq!(ok.json()["value"], *full_id);

    // Both reveals are in the audit log, with who, which field and why.
    let records = w.app.store().audit_records(0, 1000).await.unwrap();
    let reveals: Vec<_> = records
        .iter()
        .filter(|r| r.action == "resident.reveal")
        .collect();
    assert_eq!(reveals.len(), 2);
    assert!(
        reveals[1].detail.contains("办理资助申请")
            && reveals[1].detail.contains("resident.id_number")
    );
    assert_eq!(reveals[1].record_id, Some(w.r1));
    assert!(reveals.iter().all(|r| r.actor_id.is_some()));
    // Exact lookup by full ID number works within scope only.
    let found = w
        .get("worker", &format!("/api/v1/residents?id_number={full_id}"))
        .await;
    assert_eq!(ids_in(&found.json()), [w.r1]);
    let other = w
        .get(
            "worker",
            &format!("/api/v1/residents?id_number={}", secrets()[2]),
        )
        .await;
    assert!(
        ids_in(&other.json()).is_empty(),
        "not even by exact ID out of scope"
    );
}

async fn bad_input_names_the_field_and_saves_nothing(db: &TestDb) {
    let w = world(db).await;
    let before = w
        .get("worker", "/api/v1/residents?limit=200")
        .await
        .json()
        .as_array()
        .unwrap()
        .len();
    let path = format!("/api/v1/households/{}/residents", w.h1);
    let good = json!({
        "name": "王小明", "id_number": id_number("34017119900303005"), "phone": "13812345678",
        "ethnicity": "汉族", "residence_type": "floating", "relation": "sibling", "political_status": "masses",
    });
    for (field, value, message) in [
        (
            "id_number",
            json!("340171199003030051"),
            "身份证号码校验位不正确",
        ),
        ("id_number", json!("34017119900231005X"), "出生日期"),
        ("phone", json!("1381234"), "手机号"),
        ("relation", json!("cousin"), "不是可选的值"),
        ("name", json!(""), "必填"),
    ] {
        let mut body = good.clone();
        body[field] = value;
        let r = w.as_user("worker", Method::POST, &path, Some(body)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}: {}",
            r.body
        );
        let e = &r.json()["error"];
        assert_eq!(e["code"], "invalid_input");
        assert_eq!(e["field"], field);
        assert!(
            e["fields"][0]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{field}: {e}"
        );
    }
    let en = call(
        &w.router,
        Method::POST,
        &path,
        &[("authorization", &format!("Bearer {}", w.tokens["worker"])), ("accept-language", "en")],
        Some(json!({"name": "x", "id_number": "123", "ethnicity": "汉族", "residence_type": "registered", "relation": "head", "political_status": "masses"})),
    )
    .await;
    assert!(
        en.json()["error"]["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("18 characters")
    );
    // A duplicate ID number is refused too.
    let mut dup = good.clone();
    dup["id_number"] = json!(secrets()[0]);
    let r = w.as_user("worker", Method::POST, &path, Some(dup)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["field"], "id_number");
    let after = w
        .get("worker", "/api/v1/residents?limit=200")
        .await
        .json()
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "nothing saved");
    // Businesses: bad credit code, future opening date, missing reason.
    let mut body = json!({
        "grid_id": w.grid1, "name": "新开面馆", "credit_code": "91350100M000100Y44", "legal_rep": "张三",
        "address": "和平路 28 号", "opening_date": "2030-01-01", "status": "open", "app_status": "unable",
    });
    let r = w
        .as_user(
            "worker",
            Method::POST,
            "/api/v1/businesses",
            Some(body.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = r.json();
    let fields: Vec<&str> = reply["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["credit_code", "opening_date", "app_reason"]);
    body["credit_code"] = json!("91350100M000100Y43");
    body["opening_date"] = json!("2026-11-01");
    body["app_reason"] = json!("owner_away");
    let r = w
        .as_user("worker", Method::POST, "/api/v1/businesses", Some(body))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // And the good resident goes in.
    let r = w.as_user("worker", Method::POST, &path, Some(good)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // A stale version is a conflict.
    let mut body = w.resident_update(w.r1, "worker", "李明芳").await;
    let v = body["version"].as_i64().unwrap();
    let ok = w
        .as_user(
            "worker",
            Method::PUT,
            &format!("/api/v1/residents/{}", w.r1),
            Some(body.clone()),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    body["version"] = json!(v);
    let stale = w
        .as_user(
            "worker",
            Method::PUT,
            &format!("/api/v1/residents/{}", w.r1),
            Some(body),
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
}

fn session_cookie(reply: &Reply) -> String {
    let set = reply
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    set.split(';').next().unwrap().to_owned()
}

async fn login(w: &World, user: &str, password: &str, headers: &[(&str, &str)]) -> Reply {
    call(
        &w.router,
        Method::POST,
        "/api/v1/auth/login",
        headers,
        Some(json!({"username": user, "password": password})),
    )
    .await
}

async fn sessions_cookies_csrf_and_bearer(db: &TestDb) {
    let w = world(db).await;
    let password = w.passwords["worker"].clone();
    let first = login(&w, "worker", &password, &[]).await;
    assert_eq!(first.status, StatusCode::OK);
    let body = first.json();
    assert_eq!(body["user"]["role"], "grid_worker");
    assert_eq!(body["user"]["must_change_password"], true);
    let cookie = session_cookie(&first);
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    assert!(
        !first
            .headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Secure")
    );
    let behind_tls = login(&w, "worker", &password, &[("x-forwarded-proto", "https")]).await;
    assert!(
        behind_tls
            .headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Secure")
    );

    // Cookie sessions read freely but need the CSRF header to change anything.
    let me = call(
        &w.router,
        Method::GET,
        "/api/v1/auth/me",
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(me.status, StatusCode::OK);
    let path = format!("/api/v1/households/{}", w.h1);
    let update = json!({"address": "和平路 10 号 1 单元 102 室"});
    let no_csrf = call(
        &w.router,
        Method::PUT,
        &path,
        &[("cookie", &cookie)],
        Some(update.clone()),
    )
    .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    assert_eq!(no_csrf.json()["error"]["code"], "csrf_rejected");
    let wrong = call(
        &w.router,
        Method::PUT,
        &path,
        &[("cookie", &cookie), ("x-csrf-token", "nope")],
        Some(update.clone()),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let ok = call(
        &w.router,
        Method::PUT,
        &path,
        &[("cookie", &cookie), ("x-csrf-token", &csrf)],
        Some(update.clone()),
    )
    .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    // Bearer tokens need no CSRF token.
    let token = body["token"].as_str().unwrap().to_owned();
    let bearer = call(
        &w.router,
        Method::PUT,
        &path,
        &[("authorization", &format!("Bearer {token}"))],
        Some(update.clone()),
    )
    .await;
    assert_eq!(bearer.status, StatusCode::NO_CONTENT);
    // No session: 401.
    let anon = call(&w.router, Method::GET, "/api/v1/residents", &[], None).await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anon.json()["error"]["code"], "unauthenticated");

    // Logging in again from the same browser rotates the session id.
    let again = login(&w, "worker", &password, &[("cookie", &cookie)]).await;
    let rotated = session_cookie(&again);
    assert_ne!(rotated, cookie);
    let old = call(
        &w.router,
        Method::GET,
        "/api/v1/auth/me",
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(
        old.status,
        StatusCode::UNAUTHORIZED,
        "the old session id is dead"
    );

    // Idle sessions expire after 30 minutes; activity keeps them alive.
    let idle = login(&w, "worker", &password, &[]).await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let t = format!("Bearer {idle}");
    w.clock
        .set(NOW.parse::<Timestamp>().unwrap() + SignedDuration::from_mins(20));
    assert_eq!(
        call(
            &w.router,
            Method::GET,
            "/api/v1/auth/me",
            &[("authorization", &t)],
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    w.clock
        .set(NOW.parse::<Timestamp>().unwrap() + SignedDuration::from_mins(45));
    assert_eq!(
        call(
            &w.router,
            Method::GET,
            "/api/v1/auth/me",
            &[("authorization", &t)],
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    w.clock
        .set(NOW.parse::<Timestamp>().unwrap() + SignedDuration::from_mins(76));
    assert_eq!(
        call(
            &w.router,
            Method::GET,
            "/api/v1/auth/me",
            &[("authorization", &t)],
            None
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );

    // Disabling a user ends her live sessions at once, though they were
    // just read (and remembered) a moment ago.
    let live = login(&w, "worker", &password, &[]).await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let live = format!("Bearer {live}");
    let me = |auth: String| {
        let router = w.router.clone();
        async move {
            call(
                &router,
                Method::GET,
                "/api/v1/auth/me",
                &[("authorization", &auth)],
                None,
            )
            .await
            .status
        }
    };
    assert_eq!(me(live.clone()).await, StatusCode::OK);
    w.app.set_user_disabled(None, "worker", true).await.unwrap();
    assert_eq!(me(live.clone()).await, StatusCode::UNAUTHORIZED);
    w.app
        .set_user_disabled(None, "worker", false)
        .await
        .unwrap();

    // Logout ends the session.
    let fresh = login(&w, "worker", &password, &[]).await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let auth = format!("Bearer {fresh}");
    let out = call(
        &w.router,
        Method::POST,
        "/api/v1/auth/logout",
        &[("authorization", &auth)],
        None,
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.headers
            .get(header::SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        call(
            &w.router,
            Method::GET,
            "/api/v1/auth/me",
            &[("authorization", &auth)],
            None
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn failed_logins_lock_and_say_nothing_more(db: &TestDb) {
    let w = world(db).await;
    let unknown = login(&w, "nobody", "whatever-password", &[]).await;
    let wrong = login(&w, "worker", "whatever-password", &[]).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        (unknown.status, unknown.body.clone()),
        (wrong.status, wrong.body.clone()),
        "same answer for unknown user and wrong password"
    );
    for _ in 0..4 {
        assert_eq!(
            login(&w, "worker", "still-wrong", &[]).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Five failures: locked, even with the right password, with the same answer.
    let locked = login(&w, "worker", &w.passwords["worker"], &[]).await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED);
    assert_eq!(locked.body, wrong.body);
    w.clock
        .set(NOW.parse::<Timestamp>().unwrap() + SignedDuration::from_mins(31));
    let after = login(&w, "worker", &w.passwords["worker"], &[]).await;
    assert_eq!(
        after.status,
        StatusCode::OK,
        "the lock lifts after 30 minutes"
    );
    // Every failure is in the audit log.
    let failures = w
        .app
        .store()
        .audit_records(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "user.login_failed")
        .count();
    assert_eq!(failures, 7);
}

async fn the_audit_chain_catches_an_edit(db: &TestDb) {
    let w = world(db).await;
    let n = w.app.verify_audit().await.unwrap().unwrap();
    assert!(n > 10, "{n}");
    // Someone with database access edits a record behind wangge's back.
    match &db.sqlite {
        Some(s) => {
            s.write(|c| {
                c.execute_batch(
                    "DROP TRIGGER audit_log_no_update; \
                     UPDATE audit_log SET detail = '{\"forged\":true}' WHERE seq = 3;",
                )?;
                Ok(())
            })
            .await
            .unwrap();
        }
        None => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::raw_sql(
                "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change; \
                 UPDATE audit_log SET detail = '{\"forged\":true}' WHERE seq = 3;",
            )
            .execute(&mut conn)
            .await
            .unwrap();
        }
    }
    let broken = w.app.verify_audit().await.unwrap().unwrap_err();
    assert_eq!(broken.seq, 3);
}

async fn the_audit_log_refuses_changes(db: &TestDb) {
    let w = world(db).await;
    let refused = match &db.sqlite {
        Some(s) => s
            .write(|c| Ok(c.execute("DELETE FROM audit_log WHERE seq = 1", [])?))
            .await
            .is_err(),
        None => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::raw_sql("DELETE FROM audit_log WHERE seq = 1")
                .execute(&mut conn)
                .await
                .is_err()
        }
    };
    assert!(refused, "append-only");
    assert!(w.app.verify_audit().await.unwrap().is_ok());
}

/// The stored bytes hold no full ID or phone number.
async fn no_plaintext_at_rest(db: &TestDb) {
    let w = world(db).await;
    let mut bytes = Vec::new();
    match &db.sqlite {
        Some(s) => {
            // The main file and the write-ahead log together hold everything.
            for suffix in ["", "-wal"] {
                let path = format!("{}{suffix}", s.path().display());
                bytes.extend(std::fs::read(&path).unwrap_or_default());
            }
        }
        None => {
            let schema = db.url.split("search_path%3D").nth(1).unwrap().to_owned();
            let base = db.url.split('?').next().unwrap().to_owned();
            let out = std::process::Command::new("pg_dump")
                .args(["--schema", &schema, "--data-only", &base])
                .output()
                .expect("pg_dump runs");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            bytes = out.stdout;
            assert!(
                String::from_utf8_lossy(&bytes).contains("李明芳"),
                "the dump has the register"
            );
        }
    }
    assert!(bytes.len() > 10_000);
    for s in secrets() {
        assert!(
            !bytes.windows(s.len()).any(|win| win == s.as_bytes()),
            "{s} stored in plain text"
        );
    }
    let _ = (w.r1, w.b1);
}

async fn form(router: &Router, uri: &str, cookie: &str, fields: &[(&str, &str)]) -> Reply {
    let body = serde_urlencoded::to_string(fields).unwrap();
    let req = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn hidden(body: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = body
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in page"))
        + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

/// The grid worker's path on her phone: sign in, find a resident, fix a
/// record (with field errors first), reveal a number.
async fn the_pages_of_the_register(db: &TestDb) {
    let w = world(db).await;
    let r = &w.router;
    let to_login = call(r, Method::GET, "/my", &[], None).await;
    assert_eq!(to_login.status, StatusCode::SEE_OTHER);
    assert_eq!(to_login.headers[header::LOCATION], "/login?next=/my");

    let page = call(r, Method::GET, "/login?next=/my", &[], None).await;
    assert!(page.body.contains("登录"));
    let login_csrf = hidden(&page.body, "_csrf");
    let login_cookie = format!("wangge_login_csrf={login_csrf}");
    let password = w.passwords["worker"].clone();
    let forged = form(
        r,
        "/login",
        &login_cookie,
        &[
            ("_csrf", "forged"),
            ("username", "worker"),
            ("password", &password),
            ("next", "/my"),
        ],
    )
    .await;
    assert_eq!(
        forged.status,
        StatusCode::UNAUTHORIZED,
        "login form needs its CSRF token"
    );
    let wrong = form(
        r,
        "/login",
        &login_cookie,
        &[
            ("_csrf", &login_csrf),
            ("username", "worker"),
            ("password", "nope-nope"),
            ("next", "/my"),
        ],
    )
    .await;
    assert!(wrong.body.contains("用户名或密码不正确"));
    let ok = form(
        r,
        "/login",
        &login_cookie,
        &[
            ("_csrf", &login_csrf),
            ("username", "worker"),
            ("password", &password),
            ("next", "//evil.example/"),
        ],
    )
    .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(
        ok.headers[header::LOCATION],
        "/my",
        "never redirected off-site"
    );
    let cookie = session_cookie(&ok);

    let my = call(r, Method::GET, "/my", &[("cookie", &cookie)], None).await;
    assert!(my.body.contains("和平社区第一网格"), "{}", my.body);
    assert!(
        my.body.contains("一次性密码"),
        "asks to change the one-time password"
    );
    let household = call(
        r,
        Method::GET,
        &format!("/register/households/{}", w.h1),
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert!(household.body.contains("李明芳") && household.body.contains("李雨桐"));
    assert!(household.body.contains("未成年人"));
    for s in secrets() {
        assert!(!household.body.contains(&s));
    }
    let edit = call(
        r,
        Method::GET,
        &format!("/register/residents/{}/edit", w.r1),
        &[("cookie", &cookie)],
        None,
    )
    .await;
    let csrf = hidden(&edit.body, "_csrf");
    let version = hidden(&edit.body, "version");
    let fields = |id: &'static str, name: &'static str| {
        vec![
            ("name", name),
            ("id_number", id),
            ("phone", ""),
            ("ethnicity", "汉族"),
            ("residence_type", "registered"),
            ("relation", "head"),
            ("political_status", "party_member"),
            ("tag", "dibao"),
        ]
    };
    let path = format!("/register/residents/{}/edit", w.r1);
    let mut bad = fields("340171198001010019", "李明芳");
    bad.push(("_csrf", &csrf));
    bad.push(("version", &version));
    let shown = form(r, &path, &cookie, &bad).await;
    assert_eq!(shown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        shown.body.contains("身份证号码校验位不正确"),
        "field error in Chinese"
    );
    assert!(
        shown.body.contains(r#"value="340171198001010019""#),
        "what was typed is kept"
    );
    let mut no_csrf = fields("", "李明芳");
    no_csrf.push(("version", &version));
    assert_eq!(
        form(r, &path, &cookie, &no_csrf).await.status,
        StatusCode::FORBIDDEN
    );
    let mut good = fields("", "李明芳（已核实）");
    good.push(("_csrf", &csrf));
    good.push(("version", &version));
    let saved = form(r, &path, &cookie, &good).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let detail = call(
        r,
        Method::GET,
        &format!("/register/residents/{}?saved=1", w.r1),
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert!(
        detail.body.contains("李明芳（已核实）")
            && detail.body.contains("中共党员")
            && detail.body.contains("低保")
    );
    assert!(detail.body.contains("已保存"));
    let api = w
        .get("worker", &format!("/api/v1/residents/{}", w.r1))
        .await
        .json();
    assert_eq!(
        api["phone"], "138****1111",
        "an empty phone field keeps the number"
    );
    assert!(
        api["id_number"]
            .as_str()
            .unwrap()
            .ends_with(&secrets()[0][14..])
    );

    let revealed = form(
        r,
        &format!("/register/residents/{}/reveal", w.r1),
        &cookie,
        &[
            ("_csrf", &csrf),
            ("field", "id_number"),
            ("reason", "核对低保材料"),
        ],
    )
    .await;
    assert!(revealed.body.contains(&secrets()[0]));
    let other = call(
        r,
        Method::GET,
        &format!("/register/residents/{}", w.r3),
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    let business = call(
        r,
        Method::GET,
        &format!("/register/businesses/{}", w.b1),
        &[("cookie", &cookie)],
        None,
    )
    .await;
    assert!(
        business.body.contains("身份证刚换领"),
        "the reason and what to do"
    );

    let out = form(r, "/logout", &cookie, &[("_csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        call(r, Method::GET, "/my", &[("cookie", &cookie)], None)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
}

async fn buildings_are_added_and_residents_leave(db: &TestDb) {
    let w = world(db).await;
    let grid = w
        .get("worker", &format!("/api/v1/grids/{}", w.grid1))
        .await
        .json();
    let b0 = &grid["buildings"][0];
    let (lat, lon) = (
        b0["lat"].as_f64().unwrap() + 0.00002,
        b0["lon"].as_f64().unwrap() + 0.00002,
    );
    let body = |number: &str, lat: f64, lon: f64| {
        json!({"number": number, "address": "和平路 99 号", "lat": lat, "lon": lon, "floors": 6,
               "building_use": "residential", "units": [{"floors": 6, "dwellings_per_floor": 2}, {"floors": 6, "dwellings_per_floor": 2}]})
    };
    let path = format!("/api/v1/grids/{}/buildings", w.grid1);
    let created = w
        .as_user("worker", Method::POST, &path, Some(body("99", lat, lon)))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let detail = w
        .get("worker", &format!("/api/v1/buildings/{id}"))
        .await
        .json();
    assert_eq!(detail["name"], "99栋");
    assert_eq!(detail["units"].as_array().unwrap().len(), 2);
    let again = w
        .as_user("worker", Method::POST, &path, Some(body("99", lat, lon)))
        .await;
    assert_eq!(again.json()["error"]["field"], "number");
    let away = w
        .as_user(
            "worker",
            Method::POST,
            &path,
            Some(body("100", 39.9, 116.4)),
        )
        .await;
    assert_eq!(away.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(away.json()["error"]["field"], "location");
    let street = w
        .as_user("street", Method::POST, &path, Some(body("101", lat, lon)))
        .await;
    assert_eq!(
        street.status,
        StatusCode::NOT_FOUND,
        "street officers read only"
    );
    let update = json!({"name": "99栋（新建）", "address": "和平路 99 号", "floors": 7, "building_use": "mixed"});
    let r = w
        .as_user(
            "worker",
            Method::PUT,
            &format!("/api/v1/buildings/{id}"),
            Some(update.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        w.get("worker", &format!("/api/v1/buildings/{id}"))
            .await
            .json()["floors"],
        7
    );
    let r = w
        .as_user(
            "worker2",
            Method::PUT,
            &format!("/api/v1/buildings/{id}"),
            Some(update),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another grid's worker");

    let path = format!("/api/v1/residents/{}", w.r1);
    let no_reason = w
        .as_user("worker", Method::DELETE, &path, Some(json!({"reason": ""})))
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let street = w
        .as_user(
            "street",
            Method::DELETE,
            &path,
            Some(json!({"reason": "迁出"})),
        )
        .await;
    assert_eq!(street.status, StatusCode::NOT_FOUND);
    let gone = w
        .as_user(
            "worker",
            Method::DELETE,
            &path,
            Some(json!({"reason": "已迁出本市"})),
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(w.get("worker", &path).await.status, StatusCode::NOT_FOUND);
    let log = w.app.store().audit_records(0, 1000).await.unwrap();
    let entry = log.iter().find(|r| r.action == "resident.delete").unwrap();
    assert!(entry.detail.contains("已迁出本市"));
    assert!(
        !entry.detail.contains(&secrets()[0]),
        "the audit log keeps only the masked number"
    );
    assert!(log.iter().any(|r| r.action == "building.create"));
}

both_backends!(
    buildings_are_added_and_residents_leave,
    the_pages_of_the_register,
    the_access_matrix_holds,
    minors_need_the_stricter_permission,
    outputs_are_masked_and_reveals_audited,
    bad_input_names_the_field_and_saves_nothing,
    sessions_cookies_csrf_and_bearer,
    failed_logins_lock_and_say_nothing_more,
    the_audit_chain_catches_an_edit,
    the_audit_log_refuses_changes,
    no_plaintext_at_rest,
);
