//! Case creation over HTTP, complete: JSON parsing, validation, grid
//! lookup, idempotency, case + timeline + audit rows, the response with its
//! clock. The load generator runs on the same machine, over loopback, with
//! keep-alive connections.
//!
//! Measured in the same run: SQLite with the group-commit writer (the
//! default), SQLite committing once per request, the raw group-commit
//! insert of the same rows with no HTTP and no rules (the ceiling), and the
//! same HTTP workload on PostgreSQL. Run through `bench/case-intake`.
//! Environment: `WANGGE_BENCH_PG_URL`, `WANGGE_BENCH_CASES` (default 60000;
//! a twentieth of it warms up first, untimed).

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wangge_app::{App, SystemClock, UserSpec, Vault};
use wangge_core::policy::Role;
use wangge_store::postgres::PgStore;
use wangge_store::sqlite::SqliteStore;
use wangge_store::{AuditEntry, CaseEvent, NewCase, ScopeKind, Store};

/// The allocator the `wangge` binary uses, so that the server measured here
/// allocates as it does in production.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CONNECTIONS: usize = 64;

struct Target {
    addr: std::net::SocketAddr,
    token: String,
    points: Vec<(f64, f64)>,
}

/// Starts wangge on `store` with the demo's geography and a grid leader of
/// every grid; returns where to send requests.
async fn start(store: Arc<dyn Store>) -> Target {
    let app = App::new(
        store.clone(),
        Arc::new(SystemClock),
        Vault::from_master_key(&[7; 32]),
    )
    .await
    .expect("app");
    app.load_demo_geography().await.expect("demo");
    let communities = app.list_communities().await.expect("communities");
    let (_, password) = app
        .create_user(
            None,
            UserSpec {
                username: "bench".into(),
                display_name: "bench".into(),
                role: Role::CommunitySecretary,
                scopes: communities
                    .iter()
                    .map(|c| (ScopeKind::Community, c.community.id))
                    .collect(),
            },
        )
        .await
        .expect("user");
    let token = app
        .login("bench", &password, None)
        .await
        .expect("login")
        .token;
    let points = store
        .all_buildings()
        .await
        .expect("buildings")
        .iter()
        .map(|b| (b.location.lat, b.location.lon))
        .collect();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, wangge_web::router(app)).await;
    });
    Target {
        addr,
        token,
        points,
    }
}

/// Reads one HTTP/1.1 response; returns its status.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    buf.clear();
    let mut chunk = [0u8; 16384];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(status)
}

/// Files `total` cases over `CONNECTIONS` keep-alive connections.
async fn http_rate(target: &Target, total: usize, tag: &str) -> f64 {
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (next, failures) = (next.clone(), failures.clone());
        let (addr, token, points) = (target.addr, target.token.clone(), target.points.clone());
        let tag = tag.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            let mut buf = Vec::with_capacity(16384);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let (lat, lon) = points[i % points.len()];
                let body = format!(
                    r#"{{"category":"E0101","description":"楼道口堆放生活垃圾未清运 {i}","lat":{lat},"lon":{lon},"address":"和平路"}}"#
                );
                let request = format!(
                    "POST /api/v1/cases HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {token}\r\n\
                     Content-Type: application/json\r\nIdempotency-Key: {tag}-{i}\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(request.as_bytes()).await.expect("write");
                match read_response(&mut stream, &mut buf).await {
                    Ok(201) => {}
                    _ => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("client");
    }
    let rate = total as f64 / started.elapsed().as_secs_f64();
    let failed = failures.load(Ordering::Relaxed);
    assert_eq!(failed, 0, "{failed} requests failed");
    rate
}

/// The ceiling: the same three rows per case through the group-commit
/// writer, with no HTTP and no rules.
async fn raw_rate(store: Arc<SqliteStore>, total: usize) -> f64 {
    let category = store.categories().await.expect("categories")[0].id;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (store, next) = (store.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let at = Timestamp::now();
                store
                    .insert_case(
                        NewCase {
                            public_code: format!("raw{i}"),
                            category_id: category,
                            source: "patrol".into(),
                            grid_id: None,
                            lon: Some(117.25),
                            lat: Some(31.85),
                            address: "和平路".into(),
                            description: format!("楼道口堆放生活垃圾未清运 {i}"),
                            urgency: "normal".into(),
                            reporter_id: None,
                            reporter_name: None,
                            department_id: None,
                            at,
                            answers: "{}".into(),
                            idempotency_key: None,
                            request_hash: None,
                        },
                        CaseEvent {
                            at,
                            actor_id: None,
                            action: "report".into(),
                            from_state: None,
                            to_state: "reported".into(),
                            visibility: "public".into(),
                            note: String::new(),
                            ..CaseEvent::default()
                        },
                        wangge_store::Effects::default(),
                        AuditEntry::new(at, None, "case.report", "case"),
                    )
                    .await
                    .expect("insert");
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    total as f64 / started.elapsed().as_secs_f64()
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wangge-intake-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("bench.db")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let total: usize = std::env::var("WANGGE_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60_000);
    let url = std::env::var("WANGGE_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    println!(
        "case-intake: POST /api/v1/cases over loopback, {CONNECTIONS} keep-alive connections, SQLite WAL + synchronous=FULL"
    );

    let group = Arc::new(
        SqliteStore::open(&temp_path("group"), 4)
            .await
            .expect("sqlite"),
    );
    let target = start(group.clone()).await;
    // Warm up (connections, caches, the database file's first pages).
    http_rate(&target, total / 20, "w").await;
    let grouped = http_rate(&target, total, "g").await;
    println!(
        "{:<48} {:>9.0} cases/s",
        "HTTP, SQLite group commit (wangge's default)", grouped
    );

    let single = Arc::new(
        SqliteStore::open_with_batch(&temp_path("single"), 4, 1)
            .await
            .expect("sqlite"),
    );
    let target = start(single).await;
    let one = http_rate(&target, total / 4, "s").await;
    println!(
        "{:<48} {:>9.0} cases/s  (group commit {:.1}x)",
        "HTTP, SQLite one commit per request",
        one,
        grouped / one
    );

    let raw_store = Arc::new(
        SqliteStore::open(&temp_path("raw"), 4)
            .await
            .expect("sqlite"),
    );
    App::new(
        raw_store.clone(),
        Arc::new(SystemClock),
        Vault::from_master_key(&[7; 32]),
    )
    .await
    .expect("seed");
    let raw = raw_rate(raw_store, total).await;
    println!(
        "{:<48} {:>9.0} cases/s  (HTTP reaches {:.2}x of it)",
        "raw group-commit insert, no HTTP, no rules",
        raw,
        grouped / raw
    );

    let pg = match PgConnectOptions::from_str(&url) {
        Ok(options) => {
            let schema = format!("wangge_intake_{}", std::process::id());
            let admin = PgPoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await;
            match admin {
                Ok(admin) => {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
                    )))
                    .execute(&admin)
                    .await;
                    let store = PgStore::connect_with(
                        options.options([("search_path", schema.as_str())]),
                        16,
                    )
                    .await
                    .expect("pg");
                    store.migrate().await.expect("migrate");
                    let target = start(Arc::new(store)).await;
                    let rate = http_rate(&target, total / 4, "p").await;
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                        "DROP SCHEMA IF EXISTS {schema} CASCADE"
                    )))
                    .execute(&admin)
                    .await;
                    println!(
                        "{:<48} {:>9.0} cases/s",
                        "HTTP, PostgreSQL (PgPool 16)", rate
                    );
                    format!("; PostgreSQL {rate:.0}/s")
                }
                Err(e) => {
                    println!("PostgreSQL skipped: {e}");
                    String::new()
                }
            }
        }
        Err(e) => {
            println!("PostgreSQL skipped: {e}");
            String::new()
        }
    };
    let goal = if grouped >= 20_000.0 { "met" } else { "MISSED" };
    println!(
        "summary: HTTP intake {grouped:.0} cases/s on SQLite group commit [goal >= 20,000: {goal}], {:.1}x one commit per request, {:.2}x the raw ceiling ({raw:.0}/s){pg}",
        grouped / one,
        grouped / raw
    );
}
