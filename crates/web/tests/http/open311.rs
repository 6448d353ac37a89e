//! Open311 GeoReport v2, golden: every answer is compared byte for byte
//! with a file under `tests/http/golden/open311/` (both formats, and the
//! errors). `UPDATE_GOLDEN=1 cargo test` rewrites the files; review the diff.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;
use wangge_app::{App, FixedClock, Vault};
use wangge_testkit::{TestDb, both_backends};

async fn router(db: &TestDb) -> axum::Router {
    let clock = Arc::new(FixedClock::new("2026-11-30T01:00:00Z".parse().unwrap()));
    let app = App::new(db.store.clone(), clock, Vault::from_master_key(&[7; 32]))
        .await
        .unwrap();
    app.load_demo_geography().await.unwrap();
    wangge_web::router(app)
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

both_backends!(every_read_endpoint_in_both_formats);
