//! Open311 GeoReport v2, golden: every answer is compared byte for byte
//! with a file under `tests/http/golden/open311/` (both formats, and the
//! errors). `UPDATE_GOLDEN=1 cargo test` rewrites the files; review the diff.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;
use wangge_app::cases::ActForm;
use wangge_app::{App, FixedClock, UserSpec, Vault};
use wangge_core::policy::{Actor, Role};
use wangge_core::workflow::Action;
use wangge_store::ScopeKind;
use wangge_testkit::{TestDb, both_backends};

async fn router(db: &TestDb) -> axum::Router {
    router_and_app(db).await.0
}

async fn router_and_app(db: &TestDb) -> (axum::Router, Arc<App>) {
    let clock = Arc::new(FixedClock::new("2026-11-30T01:00:00Z".parse().unwrap()));
    let app = App::new(db.store.clone(), clock, Vault::from_master_key(&[7; 32]))
        .await
        .unwrap();
    app.load_demo_geography().await.unwrap();
    (wangge_web::router(app.clone()), app)
}

async fn post(router: &axum::Router, uri: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let res = router
        .clone()
        .oneshot(
            Request::post(uri)
                .header(header::HOST, "wangge.test")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn get(router: &axum::Router, uri: &str) -> (StatusCode, String, String) {
    let res = router
        .clone()
        .oneshot(
            Request::get(uri)
                .header(header::HOST, "wangge.test")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let kind = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, kind, String::from_utf8(body.to_vec()).unwrap())
}

/// Compares `body` with the golden file `name`, or writes it.
fn golden(name: &str, body: &str) {
    let path = format!(
        "{}/tests/http/golden/open311/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
        std::fs::write(&path, body).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (UPDATE_GOLDEN=1 writes it)"));
    assert_eq!(body, want, "{name} differs from its golden file");
}

async fn every_read_endpoint_in_both_formats(db: &TestDb) {
    let r = router(db).await;
    for (uri, file, status) in [
        ("/open311/v2/discovery.xml", "discovery.xml", StatusCode::OK),
        (
            "/open311/v2/discovery.json",
            "discovery.json",
            StatusCode::OK,
        ),
        ("/open311/v2/services.xml", "services.xml", StatusCode::OK),
        ("/open311/v2/services.json", "services.json", StatusCode::OK),
        (
            "/open311/v2/services/0103.xml",
            "service_0103.xml",
            StatusCode::OK,
        ),
        (
            "/open311/v2/services/0103.json",
            "service_0103.json",
            StatusCode::OK,
        ),
        (
            "/open311/v2/services/E0101.json",
            "service_E0101.json",
            StatusCode::OK,
        ),
        (
            "/open311/v2/services/nope.xml",
            "error_unknown_service.xml",
            StatusCode::NOT_FOUND,
        ),
        (
            "/open311/v2/services/nope.json",
            "error_unknown_service.json",
            StatusCode::NOT_FOUND,
        ),
        // A group is not a service.
        (
            "/open311/v2/services/01.json",
            "error_group_is_no_service.json",
            StatusCode::NOT_FOUND,
        ),
        (
            "/open311/v2/services.html",
            "error_unknown_format.xml",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (s, kind, body) = get(&r, uri).await;
        assert_eq!(s, status, "{uri}: {body}");
        if file.ends_with(".xml") {
            assert_eq!(kind, "text/xml; charset=utf-8", "{uri}");
            assert!(
                body.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#),
                "{uri}"
            );
        } else {
            assert_eq!(kind, "application/json; charset=utf-8", "{uri}");
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            if uri.contains("services.json") || file.starts_with("error") {
                assert!(v.is_array(), "{uri}: JSON lists are bare arrays");
            }
        }
        golden(file, &body);
    }
    // What a client needs: every service has a code, a name and a group,
    // and the drain cover asks about traffic, required, with its values.
    let (_, _, services) = get(&r, "/open311/v2/services.json").await;
    let services: serde_json::Value = serde_json::from_str(&services).unwrap();
    let drain = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "0103")
        .unwrap();
    assert_eq!(drain["service_name"], "雨水井盖");
    assert_eq!(drain["metadata"], true);
    assert_eq!(drain["group"], "公用设施");
    let (_, _, def) = get(&r, "/open311/v2/services/0103.json").await;
    let def: serde_json::Value = serde_json::from_str(&def).unwrap();
    let traffic = &def["attributes"][0];
    assert_eq!(traffic["code"], "traffic");
    assert_eq!(traffic["datatype"], "singlevaluelist");
    assert_eq!(traffic["required"], true);
    assert_eq!(traffic["values"][0]["key"], "大");
}

async fn a_request_is_filed_as_a_case_and_read_back(db: &TestDb) {
    let (r, app) = router_and_app(db).await;
    let (_, key) = app.add_api_key(None, "civic-app").await.unwrap();
    let b13 = app
        .store()
        .all_buildings()
        .await
        .unwrap()
        .into_iter()
        .find(|b| b.number == "13")
        .unwrap();
    let (lat, lon) = (b13.location.lat.to_string(), b13.location.lon.to_string());
    let good: Vec<(&str, &str)> = vec![
        ("api_key", key.as_str()),
        ("service_code", "0103"),
        ("lat", lat.as_str()),
        ("long", lon.as_str()),
        ("attribute[traffic]", "大"),
        ("description", "13栋门前雨水井盖缺失"),
        ("first_name", "王"),
        ("last_name", "小明"),
        ("email", "wang@example.org"),
    ];
    let without = |k: &str| -> Vec<(&str, &str)> {
        good.iter()
            .copied()
            .filter(|(f, _)| !f.starts_with(k))
            .collect()
    };
    let mut wrong_key = good.clone();
    wrong_key[0] = ("api_key", "w311_not-a-key");
    let mut unknown = good.clone();
    unknown[1] = ("service_code", "9999");
    let mut bad_lat = good.clone();
    bad_lat[2] = ("lat", "north");
    let long = "井".repeat(4001);
    let mut too_long = good.clone();
    too_long[5] = ("description", long.as_str());
    for (form, file, status) in [
        (
            without("api_key"),
            "post_error_no_key",
            StatusCode::FORBIDDEN,
        ),
        (wrong_key, "post_error_wrong_key", StatusCode::FORBIDDEN),
        (
            without("service_code"),
            "post_error_no_service",
            StatusCode::BAD_REQUEST,
        ),
        (unknown, "post_error_unknown_service", StatusCode::NOT_FOUND),
        (
            good.iter()
                .copied()
                .filter(|(f, _)| *f != "lat" && *f != "long")
                .collect(),
            "post_error_no_location",
            StatusCode::BAD_REQUEST,
        ),
        (bad_lat, "post_error_bad_lat", StatusCode::BAD_REQUEST),
        (
            without("attribute"),
            "post_error_missing_attribute",
            StatusCode::BAD_REQUEST,
        ),
        (
            too_long,
            "post_error_description_too_long",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        for ext in ["xml", "json"] {
            let (s, body) = post(&r, &format!("/open311/v2/requests.{ext}"), &form).await;
            assert_eq!(s, status, "{file}.{ext}: {body}");
            golden(&format!("{file}.{ext}"), &body);
        }
    }
    assert_eq!(
        app.store().case_count().await.unwrap(),
        0,
        "refused requests file nothing"
    );

    let (s, body) = post(&r, "/open311/v2/requests.json", &good).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = created[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_owned();
    golden("post_created.json", &body.replace(&id, "ID"));
    // It is a real case: in the grid of building 13, routed to roads, clocked.
    let case = app.store().case_by_code(&id).await.unwrap().unwrap();
    assert_eq!(case.grid_id, Some(b13.grid_id));
    assert_eq!(case.state, "reported");
    assert_eq!(case.reporter_name.as_deref(), Some("王 小明"));
    for ext in ["xml", "json"] {
        let (s, _, body) = get(&r, &format!("/open311/v2/requests/{id}.{ext}")).await;
        assert_eq!(s, StatusCode::OK);
        assert!(
            !body.contains("小明") && !body.contains("wang@"),
            "no reporter: {body}"
        );
        golden(&format!("request.{ext}"), &body.replace(&id, "ID"));
    }
    // By a building of the register, as an address id.
    let building = b13.id.to_string();
    let by_address: Vec<(&str, &str)> = vec![
        ("api_key", key.as_str()),
        ("service_code", "E0101"),
        ("address_id", building.as_str()),
    ];
    let (s, body) = post(&r, "/open311/v2/requests.xml", &by_address).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    // Lists: by default the last 90 days, newest first; filters.
    let count = |body: &str| -> usize {
        serde_json::from_str::<serde_json::Value>(body)
            .unwrap()
            .as_array()
            .unwrap()
            .len()
    };
    let (s, _, all) = get(&r, "/open311/v2/requests.json").await;
    assert_eq!((s, count(&all)), (StatusCode::OK, 2));
    let (_, _, drains) = get(&r, "/open311/v2/requests.xml?service_code=0103").await;
    golden("requests_service_code.xml", &drains.replace(&id, "ID"));
    let (_, _, by_id) = get(
        &r,
        &format!("/open311/v2/requests.json?service_request_id={id}&service_code=E0101"),
    )
    .await;
    assert_eq!(count(&by_id), 1, "an id overrides the other filters");
    assert!(by_id.contains(&id));
    let (_, _, open) = get(&r, "/open311/v2/requests.json?status=open").await;
    let (_, _, closed) = get(&r, "/open311/v2/requests.json?status=closed").await;
    assert_eq!((count(&open), count(&closed)), (2, 0));
    let (_, _, first) = get(&r, "/open311/v2/requests.json?page_size=1").await;
    let (_, _, second) = get(&r, "/open311/v2/requests.json?page_size=1&page=2").await;
    assert_eq!((count(&first), count(&second)), (1, 1));
    assert_ne!(first, second);
    let (_, _, old) = get(
        &r,
        "/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-02-01T00:00:00Z",
    )
    .await;
    assert_eq!(count(&old), 0);
    for (uri, file) in [
        (
            "/open311/v2/requests.json?start_date=yesterday",
            "get_error_bad_date.json",
        ),
        (
            "/open311/v2/requests.xml?start_date=2026-11-30",
            "get_error_date_without_zone.xml",
        ),
        (
            "/open311/v2/requests.json?start_date=2026-12-01T00:00:00Z&end_date=2026-11-01T00:00:00Z",
            "get_error_dates_reversed.json",
        ),
        (
            "/open311/v2/requests.json?status=pending",
            "get_error_bad_status.json",
        ),
        (
            "/open311/v2/requests.json?page_size=0",
            "get_error_bad_page_size.json",
        ),
        (
            "/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-11-01T00:00:00Z",
            "get_error_span_too_long.json",
        ),
        ("/open311/v2/requests/nope.xml", "error_unknown_request.xml"),
    ] {
        let (s, _, body) = get(&r, uri).await;
        assert!(
            s == StatusCode::BAD_REQUEST || s == StatusCode::NOT_FOUND,
            "{uri}: {s}"
        );
        golden(file, &body);
    }
    // The building-13 drain, filed by the resident app, goes through the
    // workflow and comes back out as updates and, at last, closed.
    let roads = app
        .store()
        .departments()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.code == "roads")
        .unwrap()
        .id;
    let staff = |name: &'static str, role: Role, scope: (ScopeKind, i64)| {
        let app = app.clone();
        async move {
            let (user_id, _) = app
                .create_user(
                    None,
                    UserSpec {
                        username: name.into(),
                        display_name: name.into(),
                        role,
                        scopes: vec![scope],
                    },
                )
                .await
                .unwrap();
            Actor {
                user_id,
                role,
                grids: if scope.0 == ScopeKind::Grid {
                    vec![scope.1]
                } else {
                    vec![]
                },
                communities: vec![],
                streets: vec![],
                departments: if scope.0 == ScopeKind::Department {
                    vec![scope.1]
                } else {
                    vec![]
                },
            }
        }
    };
    let leader = staff("leader", Role::GridLeader, (ScopeKind::Grid, b13.grid_id)).await;
    let worker = staff("worker", Role::GridWorker, (ScopeKind::Grid, b13.grid_id)).await;
    let dept = staff(
        "roads",
        Role::DepartmentStaff,
        (ScopeKind::Department, roads),
    )
    .await;
    let case_id = case.id;
    let act = |who: &Actor, action: Action, form: ActForm| {
        let (app, who) = (app.clone(), who.clone());
        async move { app.act_on_case(&who, case_id, action, &form).await.unwrap() }
    };
    act(&leader, Action::Accept, ActForm::default()).await;
    act(&leader, Action::Dispatch, ActForm::default()).await;
    let photo = app
        .upload_photo(&dept, wangge_media::sample_photo(3, 320, 240))
        .await
        .unwrap();
    act(
        &dept,
        Action::Handle,
        ActForm {
            note: "已更换新井盖".into(),
            photos: vec![photo.id],
            ..ActForm::default()
        },
    )
    .await;
    act(&worker, Action::VerifyPass, ActForm::default()).await;
    act(&leader, Action::Close, ActForm::default()).await;
    let (_, _, feed) = get(&r, "/open311/v2/servicerequestupdates.json").await;
    let feed: serde_json::Value = serde_json::from_str(&feed).unwrap();
    let statuses: Vec<&str> = feed
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["service_request_id"] == id.as_str())
        .map(|u| u["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [
            "OPEN",
            "INVESTIGATING",
            "ACTION_SCHEDULED",
            "IN_PROGRESS",
            "IN_PROGRESS",
            "FIXED"
        ]
    );
    assert!(feed.to_string().contains("已更换新井盖"));
    let (_, _, xml) = get(
        &r,
        "/open311/v2/servicerequestupdates.xml?start_date=2026-11-30T00:00:00Z",
    )
    .await;
    assert!(xml.contains("<service_request_updates>") && xml.contains("<status>FIXED</status>"));
    let (_, _, later) = get(
        &r,
        "/open311/v2/servicerequestupdates.json?start_date=2026-12-01T00:00:00Z",
    )
    .await;
    assert_eq!(later, "[]");
    let (_, _, closed) = get(&r, &format!("/open311/v2/requests/{id}.json")).await;
    assert!(closed.contains(r#""status":"closed""#), "{closed}");
    let (s, _, body) = get(&r, "/open311/v2/servicerequestupdates.json?end_date=soon").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    golden("updates_error_bad_date.json", &body);
    // The resident app posts an update; a retry with the same update_id
    // adds nothing; it shows in the feed.
    let update: Vec<(&str, &str)> = vec![
        ("api_key", key.as_str()),
        ("service_request_id", id.as_str()),
        ("update_id", "app-update-1"),
        ("status", "CLOSED"),
        ("description", "井盖已经装好了，谢谢"),
    ];
    let (s, first) = post(&r, "/open311/v2/servicerequestupdates.json", &update).await;
    assert_eq!(s, StatusCode::OK, "{first}");
    let (_, again) = post(&r, "/open311/v2/servicerequestupdates.json", &update).await;
    assert_eq!(first, again, "the same update once");
    let (_, xml) = post(&r, "/open311/v2/servicerequestupdates.xml", &update).await;
    let update_id = serde_json::from_str::<serde_json::Value>(&first).unwrap()[0]["update_id"]
        .as_str()
        .unwrap()
        .to_owned();
    golden(
        "post_update.xml",
        &xml.replace(
            &format!("<update_id>{update_id}</update_id>"),
            "<update_id>UPDATE</update_id>",
        ),
    );
    let comments = app
        .store()
        .case_events(case_id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "comment")
        .count();
    assert_eq!(comments, 1);
    let (_, _, feed) = get(&r, "/open311/v2/servicerequestupdates.json").await;
    assert!(feed.contains("井盖已经装好了"), "{feed}");
    for (form, file, status) in [
        (
            update
                .iter()
                .copied()
                .filter(|(k, _)| *k != "api_key")
                .collect::<Vec<_>>(),
            "post_update_error_no_key.json",
            StatusCode::FORBIDDEN,
        ),
        (
            update
                .iter()
                .copied()
                .filter(|(k, _)| *k != "update_id")
                .collect(),
            "post_update_error_no_update_id.json",
            StatusCode::BAD_REQUEST,
        ),
        (
            update
                .iter()
                .map(|(k, v)| {
                    if *k == "service_request_id" {
                        (*k, "nope")
                    } else {
                        (*k, *v)
                    }
                })
                .collect(),
            "post_update_error_unknown_request.json",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (s, body) = post(&r, "/open311/v2/servicerequestupdates.json", &form).await;
        assert_eq!(s, status, "{file}: {body}");
        golden(file, &body);
    }
    // Tokens: requests are filed at once, so a token is the request's id.
    for ext in ["xml", "json"] {
        let (s, _, body) = get(&r, &format!("/open311/v2/tokens/{id}.{ext}")).await;
        assert_eq!(s, StatusCode::OK);
        golden(&format!("token.{ext}"), &body.replace(&id, "ID"));
    }
    let (s, _, body) = get(&r, "/open311/v2/tokens/nope.json").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    golden("error_unknown_token.json", &body);
    // A revoked key files nothing more.
    app.revoke_api_key(None, "civic-app").await.unwrap();
    let (s, _) = post(&r, "/open311/v2/requests.json", &good).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = get(&r, "/open311/v2/requests/nope.json").await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn anonymous_reads_are_rate_limited(db: &TestDb) {
    let r = router(db).await;
    let mut limited = None;
    for i in 0..100 {
        let (s, _, body) = get(&r, "/open311/v2/services.json").await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((i, body));
            break;
        }
        assert_eq!(s, StatusCode::OK);
    }
    let (i, body) = limited.expect("a burst of 100 reads is limited");
    assert!(i >= 60, "the first 60 of a burst pass ({i})");
    golden("error_rate_limited.json", &body);
}

both_backends!(
    anonymous_reads_are_rate_limited,
    every_read_endpoint_in_both_formats,
    a_request_is_filed_as_a_case_and_read_back
);
