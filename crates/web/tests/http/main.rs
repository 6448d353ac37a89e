//! HTTP in process, against a real database on both backends, with the demo
//! community loaded.

mod cases;
mod field;
mod open311;
mod register;
mod search;
mod sheets;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use wangge_app::{App, FixedClock, Vault};
use wangge_testkit::{TestDb, both_backends};

async fn demo_router(db: &TestDb) -> Router {
    let clock = Arc::new(FixedClock::new("2026-11-29T09:00:00Z".parse().unwrap()));
    let app = App::new(db.store.clone(), clock, Vault::from_master_key(&[7; 32]))
        .await
        .unwrap();
    app.load_demo_geography().await.unwrap();
    wangge_web::router(app)
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn get(router: &Router, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

async fn health_checks_the_database(db: &TestDb) {
    let r = demo_router(db).await;
    let res = get(&r, "/healthz", &[]).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.json()["status"], "ok");
    assert_eq!(res.json()["database"], db.backend().name());
}

async fn grids_list_with_hierarchy(db: &TestDb) {
    let r = demo_router(db).await;
    let all = get(&r, "/api/v1/grids", &[]).await;
    assert_eq!(all.status, StatusCode::OK);
    let grids = all.json();
    assert_eq!(grids.as_array().unwrap().len(), 16);
    assert_eq!(grids[0]["code"], "34017100100101");
    assert_eq!(grids[0]["community"]["name"], "和平社区");
    assert_eq!(grids[0]["street"]["code"], "340171001");
    assert_eq!(grids[0]["district"]["name"], "新城区");

    let one = get(&r, "/api/v1/grids?community=340171001002", &[])
        .await
        .json();
    assert_eq!(one.as_array().unwrap().len(), 8);
    assert!(
        one.as_array()
            .unwrap()
            .iter()
            .all(|g| g["community"]["code"] == "340171001002")
    );

    let communities = get(&r, "/api/v1/communities", &[]).await.json();
    assert_eq!(communities[1]["name"], "春晖社区");
    assert_eq!(communities[1]["grid_count"], 8);
}

async fn bad_and_unknown_community_filters(db: &TestDb) {
    let r = demo_router(db).await;
    let bad = get(&r, "/api/v1/grids?community=12345", &[]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = &bad.json()["error"];
    assert_eq!(e["code"], "invalid_input");
    assert_eq!(e["field"], "community");
    assert_eq!(e["message"], "社区编码应为 12 位数字，实际为 5 个字符");
    let en = get(
        &r,
        "/api/v1/grids?community=12345",
        &[("accept-language", "en-US,en;q=0.9")],
    )
    .await;
    assert_eq!(
        en.json()["error"]["message"],
        "community code must be 12 digits, got 5 characters"
    );
    let unknown = get(&r, "/api/v1/grids?community=340171001009", &[]).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_eq!(unknown.json()["error"]["code"], "community_not_found");
}

async fn grid_detail_has_geojson_history_and_buildings(db: &TestDb) {
    let r = demo_router(db).await;
    let grids = get(&r, "/api/v1/grids", &[]).await.json();
    let id = grids[0]["id"].as_i64().unwrap();
    let d = get(&r, &format!("/api/v1/grids/{id}"), &[]).await;
    assert_eq!(d.status, StatusCode::OK);
    let d = d.json();
    assert_eq!(d["code"], "34017100100101");
    assert_eq!(d["boundary"]["type"], "Polygon");
    let ring = d["boundary"]["coordinates"][0].as_array().unwrap();
    assert!(ring.len() >= 4);
    assert_eq!(ring.first(), ring.last(), "closed ring");
    assert_eq!(d["history"][0]["version"], 1);
    assert!(d["history"][0]["valid_to"].is_null());
    assert!(!d["buildings"].as_array().unwrap().is_empty());
    assert_eq!(
        d["buildings"].as_array().unwrap().len() as i64,
        d["building_count"].as_i64().unwrap()
    );

    for uri in [
        "/api/v1/grids/999999",
        "/api/v1/grids/abc",
        "/api/v1/grids/-1",
    ] {
        let nf = get(&r, uri, &[]).await;
        assert_eq!(nf.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(nf.json()["error"]["code"], "grid_not_found");
    }
    let route = get(&r, "/api/v1/nothing-here", &[("accept-language", "en")]).await;
    assert_eq!(route.status, StatusCode::NOT_FOUND);
    assert_eq!(route.json()["error"]["code"], "not_found");
}

async fn locate_inside_on_an_edge_outside_and_bad_input(db: &TestDb) {
    let r = demo_router(db).await;
    let grids = get(&r, "/api/v1/grids", &[]).await.json();
    let id = grids[5]["id"].as_i64().unwrap();
    let d = get(&r, &format!("/api/v1/grids/{id}"), &[]).await.json();
    // A building's position is inside its grid.
    let b = &d["buildings"][0];
    let uri = format!("/api/v1/grids/locate?lat={}&lon={}", b["lat"], b["lon"]);
    let inside = get(&r, &uri, &[]).await;
    assert_eq!(inside.status, StatusCode::OK);
    assert_eq!(inside.json()["result"], "inside");
    assert_eq!(inside.json()["grid"]["id"], id);
    // A vertex of the boundary is on its edge, and so in a grid.
    let v = &d["boundary"]["coordinates"][0][0];
    let edge = get(
        &r,
        &format!("/api/v1/grids/locate?lat={}&lon={}", v[1], v[0]),
        &[],
    )
    .await;
    assert_eq!(edge.json()["result"], "inside");
    // Far away: an answer, not an error.
    let outside = get(&r, "/api/v1/grids/locate?lat=39.9&lon=116.4", &[]).await;
    assert_eq!(outside.status, StatusCode::OK);
    assert_eq!(outside.json()["result"], "outside");
    assert!(outside.json()["grid"].is_null());
    // Before the demo's boundaries were drawn.
    let past = get(&r, &format!("{uri}&at=2020-01-01"), &[]).await;
    assert_eq!(past.json()["result"], "outside");

    for (query, field) in [
        ("lon=117.2", "lat"),
        ("lat=abc&lon=117.2", "lat"),
        ("lat=31.8&lon=200", "lon"),
        ("lat=31.8&lon=117.2&at=yesterday", "at"),
    ] {
        let bad = get(&r, &format!("/api/v1/grids/locate?{query}"), &[]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        assert_eq!(bad.json()["error"]["field"], field, "{query}");
    }
}

async fn openapi_describes_the_api(db: &TestDb) {
    let r = demo_router(db).await;
    let doc = get(&r, "/api/openapi.json", &[]).await;
    assert_eq!(doc.status, StatusCode::OK);
    let doc = doc.json();
    for path in [
        "/healthz",
        "/api/v1/communities",
        "/api/v1/grids",
        "/api/v1/grids/{id}",
        "/api/v1/grids/locate",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from OpenAPI"
        );
    }
    assert!(doc["components"]["schemas"]["GridDto"].is_object());
    let ui = get(&r, "/api/docs/", &[]).await;
    assert_eq!(ui.status, StatusCode::OK);
    assert!(ui.body.contains("swagger"));
}

async fn pages_in_chinese_and_english(db: &TestDb) {
    let r = demo_router(db).await;
    let home = get(&r, "/", &[]).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    let list = get(&r, "/communities", &[]).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(r#"<html lang="zh-CN">"#));
    assert!(list.body.contains("和平社区") && list.body.contains("春晖社区"));
    assert!(list.body.contains("8 网格"));
    // Pages speak Chinese unless switched, whatever the browser prefers;
    // the API follows Accept-Language.
    let browser_en = get(&r, "/communities", &[("accept-language", "en-US,en;q=0.9")]).await;
    assert!(browser_en.body.contains(r#"<html lang="zh-CN">"#));

    let en = get(&r, "/communities?lang=en", &[]).await;
    assert!(en.body.contains(r#"<html lang="en">"#));
    assert!(en.body.contains("8 Grids"));
    let cookie = en
        .headers
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    assert!(cookie.starts_with("lang=en"));
    // The choice sticks through the cookie.
    let again = get(&r, "/communities", &[("cookie", "lang=en")]).await;
    assert!(again.body.contains(r#"<html lang="en">"#));

    let community = get(&r, "/communities/340171001001", &[]).await;
    assert_eq!(community.status, StatusCode::OK);
    assert!(community.body.contains("<svg"));
    assert!(community.body.contains("和平社区第八网格"));
    let missing = get(&r, "/communities/340171001009", &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("找不到该社区"));
}

async fn the_grid_page_shows_boundary_and_buildings(db: &TestDb) {
    let r = demo_router(db).await;
    let grids = get(&r, "/api/v1/grids", &[]).await.json();
    let g = grids
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["community"]["code"] == "340171001001")
        .unwrap();
    let page = get(&r, &format!("/grids/{}", g["id"]), &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(g["name"].as_str().unwrap()));
    assert!(page.body.contains("<svg") && page.body.contains("<circle"));
    assert!(page.body.contains("现行"));
    assert!(page.body.contains("1栋"));
    let en = get(&r, &format!("/grids/{}?lang=en", g["id"]), &[]).await;
    assert!(en.body.contains("Boundary versions") && en.body.contains("in force"));
    let nf = get(&r, "/grids/999999", &[]).await;
    assert_eq!(nf.status, StatusCode::NOT_FOUND);
    assert!(nf.body.contains("找不到该网格"));
    let nowhere = get(&r, "/no/such/page", &[]).await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
    assert!(nowhere.body.contains("页面不存在"));
}

async fn the_locate_page_answers(db: &TestDb) {
    let r = demo_router(db).await;
    let empty = get(&r, "/locate", &[]).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.body.contains("按坐标查网格"));
    let outside = get(&r, "/locate?lat=39.9&lon=116.4&at=", &[]).await;
    assert!(outside.body.contains("该点不在任何网格内"));
    let bad = get(&r, "/locate?lat=95&lon=116.4", &[]).await;
    assert!(bad.body.contains("纬度 95 超出范围"));
    let d = get(&r, "/api/v1/grids", &[]).await.json();
    let id = d[0]["id"].as_i64().unwrap();
    let b = &get(&r, &format!("/api/v1/grids/{id}"), &[]).await.json()["buildings"][0];
    let found = get(
        &r,
        &format!("/locate?lat={}&lon={}", b["lat"], b["lon"]),
        &[],
    )
    .await;
    assert!(found.body.contains("该点位于"));
    assert!(found.body.contains(&format!("/grids/{id}")));
}

both_backends!(
    health_checks_the_database,
    grids_list_with_hierarchy,
    bad_and_unknown_community_filters,
    grid_detail_has_geojson_history_and_buildings,
    locate_inside_on_an_edge_outside_and_bad_input,
    openapi_describes_the_api,
    pages_in_chinese_and_english,
    the_grid_page_shows_boundary_and_buildings,
    the_locate_page_answers,
);
