//! Search over HTTP on both backends, on the demo register: traditional
//! input, pinyin full and initials, Chinese with digits, exact ID numbers,
//! scope (another grid's worker finds nothing, not even by exact ID;
//! minors are left out for street officers) and masking.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use wangge_core::idnumber::check_char;
use wangge_testkit::{TestDb, both_backends};

use crate::field::{OTHER, WORKER, World, world};

const STREET: &str = "jiedao";

fn id_number(first17: &str) -> String {
    format!("{first17}{}", check_char(first17.as_bytes()) as char)
}

/// `(kind, title)` of every hit.
async fn found(w: &World, user: &str, q: &str) -> Vec<(String, String, Value)> {
    let uri = format!("/api/v1/search?q={}", urlencode(q));
    let r = w.ok(user, Method::GET, &uri, None).await;
    r["groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["hits"].as_array().unwrap().clone())
        .map(|h| {
            (
                h["kind"].as_str().unwrap().to_owned(),
                h["title"].as_str().unwrap().to_owned(),
                h,
            )
        })
        .collect()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn has(hits: &[(String, String, Value)], kind: &str, title: &str) -> bool {
    hits.iter().any(|(k, t, _)| k == kind && t == title)
}

async fn search_finds_by_chinese_pinyin_and_number_in_scope(db: &TestDb) {
    let w = world(db).await;
    let household = w.households(w.grid).await[0].clone();
    let adult = id_number("34017119760315004");
    let child = id_number("34017120180601004");
    for (name, id, phone) in [
        ("欧阳明芳", adult.as_str(), "13900004321"),
        ("欧阳小雨", child.as_str(), ""),
    ] {
        let (s, r) = w
            .call(
                WORKER,
                Method::POST,
                &format!("/api/v1/households/{}/residents", household.id),
                Some(json!({
                    "name": name, "id_number": id, "phone": if phone.is_empty() { Value::Null } else { json!(phone) },
                    "ethnicity": "汉族", "residence_type": "registered", "relation": if phone.is_empty() { "grandchild" } else { "spouse" },
                    "political_status": "masses", "tags": []
                })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{r}");
    }
    let b = w.store.buildings_of_grid(w.grid).await.unwrap()[0].clone();
    let (s, case) = w
        .call(
            WORKER,
            Method::POST,
            "/api/v1/cases",
            Some(json!({ "category": "0103", "description": "网格员巡查发现13栋门前雨水井盖缺失", "lat": b.location.lat, "lon": b.location.lon, "address": "和平路 34 号 13 栋门前", "answers": { "traffic": ["大"] } })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{case}");
    let code = case["public_code"].as_str().unwrap().to_owned();

    // Chinese, traditional, part of the name, pinyin in full and initials.
    for q in [
        "欧阳明芳",
        "歐陽明芳",
        "明芳",
        "ouyangmingfang",
        "ouyangming",
        "oymf",
        "OYMF",
    ] {
        assert!(
            has(&found(&w, WORKER, q).await, "resident", "欧阳明芳"),
            "{q}"
        );
    }
    // Two words: traditional, and Chinese with digits.
    for q in ["網格員 井蓋", "13栋 雨水井盖", "13 井盖"] {
        assert!(has(&found(&w, WORKER, q).await, "case", &code), "{q}");
    }
    assert!(found(&w, WORKER, "13栋 不存在的词").await.is_empty());
    // An exact ID number, through the blind index.
    let by_id = found(&w, WORKER, &adult).await;
    assert_eq!(by_id.len(), 1);
    assert!(has(&by_id, "resident", "欧阳明芳"));
    // Results are masked: no full ID or phone number in the answer.
    let body = w
        .ok(
            WORKER,
            Method::GET,
            &format!("/api/v1/search?q={}", urlencode("欧阳")),
            None,
        )
        .await
        .to_string();
    assert!(body.contains("欧阳明芳"));
    for secret in [adult.as_str(), child.as_str(), "13900004321"] {
        assert!(!body.contains(secret), "{secret} in {body}");
    }
    assert!(
        body.contains("1390****321") || body.contains("139****4321"),
        "masked phone shown: {body}"
    );

    // Another community's worker finds nothing of her grid, not even by ID.
    assert!(!has(
        &found(&w, OTHER, "欧阳明芳").await,
        "resident",
        "欧阳明芳"
    ));
    assert!(found(&w, OTHER, &adult).await.is_empty());
    assert!(!has(
        &found(&w, OTHER, "13栋 雨水井盖").await,
        "case",
        &code
    ));
    // The street officer reads the street but not minors.
    let street = found(&w, STREET, "欧阳").await;
    assert!(has(&street, "resident", "欧阳明芳"));
    assert!(
        !has(&street, "resident", "欧阳小雨"),
        "a minor is not shown to a street officer"
    );
    assert!(has(
        &found(&w, WORKER, "欧阳小雨").await,
        "resident",
        "欧阳小雨"
    ));
    // Department staff and residents have no register scope: nothing.
    assert!(found(&w, "jumin.demo", "欧阳明芳").await.is_empty());

    // Renaming updates the index in the same transaction.
    let res = w
        .ok(
            WORKER,
            Method::GET,
            &format!("/api/v1/residents?household={}", household.id),
            None,
        )
        .await;
    let me = res
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "欧阳明芳")
        .unwrap()
        .clone();
    let (s, r) = w
        .call(
            WORKER,
            Method::PUT,
            &format!("/api/v1/residents/{}", me["id"]),
            Some(json!({
                "name": "欧阳明方", "id_number": adult, "phone": "13900004321", "ethnicity": "汉族",
                "residence_type": "registered", "relation": "spouse", "political_status": "masses", "tags": [],
                "version": me["version"]
            })),
        )
        .await;
    assert!(s.is_success(), "{s} {r}");
    assert!(!has(
        &found(&w, WORKER, "欧阳明芳").await,
        "resident",
        "欧阳明芳"
    ));
    assert!(has(
        &found(&w, WORKER, "欧阳明方").await,
        "resident",
        "欧阳明方"
    ));

    // The building moves to another grid: its people go with it.
    crate::field::move_building_grid(&w, household.id, w.other_grid).await;
    assert!(found(&w, WORKER, &adult).await.is_empty());
    assert!(has(&found(&w, OTHER, "oymf").await, "resident", "欧阳明方"));

    // The page: one box, results grouped by kind, linked.
    let (s, page) = w
        .page(Some(OTHER), &format!("/search?q={}", urlencode("欧阳明方")))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        page.contains("/register/residents/") && page.contains("欧阳明方") && page.contains("居民"),
        "{page}"
    );
    let (s, _) = w
        .call(
            WORKER,
            Method::GET,
            &format!("/api/v1/search?q={}", "字".repeat(101)),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
}

both_backends!(search_finds_by_chinese_pinyin_and_number_in_scope);
