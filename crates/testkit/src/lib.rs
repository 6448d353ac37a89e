//! A fresh database per test, on both backends.
//!
//! SQLite: a new file in a temporary directory. PostgreSQL: a new schema in
//! the database named by `WANGGE_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`), dropped afterwards. When that
//! server cannot be reached the PostgreSQL half is skipped, and said so on
//! the terminal; with `CI=true` the test fails instead.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use wangge_store::postgres::PgStore;
use wangge_store::sqlite::SqliteStore;
use wangge_store::{Backend, Store};

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

pub fn pg_url() -> String {
    std::env::var("WANGGE_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// A database that lives as long as the test.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    /// The same store, typed, when it is SQLite.
    pub sqlite: Option<Arc<SqliteStore>>,
    /// The URL a separate process (the binary under test) can open.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<(PgConnectOptions, String)>,
}

impl TestDb {
    pub fn backend(&self) -> Backend {
        self.store.backend()
    }

    /// Drops the PostgreSQL schema; SQLite files go with their directory.
    pub async fn cleanup(self) {
        if let Some((options, schema)) = &self.pg_schema
            && let Ok(mut conn) = PgConnection::connect_with(options).await
        {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE"
            )))
            .execute(&mut conn)
            .await;
        }
    }
}

/// A new, migrated SQLite database in its own directory.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("wangge.db");
    let store = Arc::new(
        SqliteStore::open(&path, 2)
            .await
            .expect("open test SQLite database"),
    );
    TestDb {
        store: store.clone(),
        sqlite: Some(store),
        url: format!("sqlite://{}", path.display()),
        _dir: Some(dir),
        pg_schema: None,
    }
}

fn pg_reachable(options: &PgConnectOptions) -> bool {
    static REACHABLE: OnceLock<bool> = OnceLock::new();
    *REACHABLE.get_or_init(|| {
        let addr = (options.get_host(), options.get_port());
        let reachable = addr.to_socket_addrs().is_ok_and(|mut addrs| {
            addrs.any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
        });
        if !reachable {
            let msg = format!(
                "\n!!! PostgreSQL at {} is unreachable: the PostgreSQL half of the storage \
                 tests is SKIPPED.\n!!! Start PostgreSQL or set WANGGE_TEST_PG_URL to run it.\n",
                pg_url()
            );
            // Straight to the terminal: libtest captures print macros only.
            let _ = std::io::stderr().write_all(msg.as_bytes());
        }
        reachable
    })
}

/// A new, migrated PostgreSQL schema; `None` (skip) when PostgreSQL is
/// unreachable outside CI.
pub async fn postgres() -> Option<TestDb> {
    let url = pg_url();
    let options = PgConnectOptions::from_str(&url).expect("WANGGE_TEST_PG_URL is a PostgreSQL URL");
    if !pg_reachable(&options) {
        assert!(
            !in_ci(),
            "CI=true but PostgreSQL at {url} is unreachable: the PostgreSQL half cannot be skipped in CI"
        );
        return None;
    }
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let schema = format!(
        "wt_{now}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = PgConnection::connect_with(&options)
        .await
        .expect("connect to test PostgreSQL");
    sweep_stale_schemas(&mut admin, now).await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .expect("create test schema");
    let scoped = options.clone().options([("search_path", schema.as_str())]);
    let store = PgStore::connect_with(scoped, 4)
        .await
        .expect("connect to test schema");
    store.migrate().await.expect("migrate test schema");
    Some(TestDb {
        store: Arc::new(store),
        sqlite: None,
        url: format!(
            "{url}{}options=-csearch_path%3D{schema}",
            if url.contains('?') { '&' } else { '?' }
        ),
        _dir: None,
        pg_schema: Some((options, schema)),
    })
}

/// Drops schemas left by tests that panicked more than an hour ago.
async fn sweep_stale_schemas(admin: &mut PgConnection, now: u64) {
    static SWEPT: OnceLock<()> = OnceLock::new();
    if SWEPT.set(()).is_err() {
        return;
    }
    let schemas: Vec<String> =
        sqlx::query_scalar("SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'wt\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    for schema in schemas {
        let created = schema
            .split('_')
            .nth(1)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0);
        if created + 3600 < now {
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE"
            )))
            .execute(&mut *admin)
            .await;
        }
    }
}

/// Declares each listed `async fn NAME(db: &TestDb)` as two tests,
/// `sqlite::NAME` and `postgres::NAME`, each on a fresh database.
pub mod photos;

#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::sqlite().await;
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::postgres().await else { return };
                    super::$name(&db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}
