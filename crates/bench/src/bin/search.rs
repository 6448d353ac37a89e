//! Search latency over a large index, and segmentation throughput.
//!
//! The index is filled with `N` resident documents and `N` case documents
//! (default 10⁶ each; `WANGGE_BENCH_SEARCH_DOCS`) made by the same document
//! functions the store uses for real records (synthetic names and case
//! descriptions, spread over 16 grids), then two-word Chinese queries run
//! through the store's search path, scoped to one grid and to eight grids
//! (a worker, a community secretary), on SQLite (FTS5) and PostgreSQL
//! (tsvector + GIN). Baseline in the same run: the same queries as a
//! `LIKE '%word%'` scan of the same documents. Segmentation: jieba-rs
//! beside Python's jieba on the same text, when it can be installed
//! (`WANGGE_BENCH_PYTHON`, default `target/py/bin/python`). Run through
//! `bench/search`.

use std::io::Write as _;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::params;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use wangge_store::field::FieldStore;
use wangge_store::postgres::PgStore;
use wangge_store::search::{self, SearchDoc};
use wangge_store::sqlite::SqliteStore;

/// The allocator the `wangge` binary runs with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "欧阳", "司马",
];
const GIVEN: &[&str] = &[
    "明", "芳", "建", "华", "秀", "英", "国", "强", "丽", "敏", "静", "军", "杰", "娟", "涛", "超",
    "霞", "平", "刚", "桂", "兰", "玉", "海", "燕", "春", "梅", "志", "勇", "红", "雪", "晨", "宇",
];
const PLACES: &[&str] = &[
    "和平路",
    "长江西路",
    "翠竹园",
    "电机厂宿舍",
    "东方花园",
    "春风苑",
    "银杏家园",
    "书香门第",
    "锦绣华庭",
    "幸福里",
    "光明街",
    "人民路",
];
const PROBLEMS: &[&str] = &[
    "雨水井盖缺失，人车流量大",
    "路灯不亮，夜间出行不便",
    "占道经营，影响通行",
    "暴露垃圾堆放多日无人清理",
    "非法小广告张贴在楼道",
    "施工扰民，夜间噪音大",
    "道路积水严重",
    "消防栓损坏漏水",
    "行道树倒伏压住电线",
    "楼道堆放杂物存在安全隐患",
    "违法建筑占用绿地",
    "垃圾桶破损异味大",
];
const QUERIES: &[&str] = &[
    "雨水井盖 和平路",
    "路灯 翠竹园",
    "占道经营 人民路",
    "暴露垃圾 春风苑",
    "消防栓 光明街",
    "王 明芳",
    "李 建华",
    "欧阳 秀英",
    "施工扰民 锦绣华庭",
    "道路积水 长江西路",
    "安全隐患 楼道",
    "张 国强",
];

struct Dice(u64);
impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// The `i`-th synthetic document of a kind.
fn doc(kind: usize, i: u64) -> SearchDoc {
    let mut d = Dice(i * 2 + kind as u64 + 1);
    d.next();
    let grid = (i % 16 + 1) as i64;
    if kind == 0 {
        let name = format!("{}{}{}", d.pick(SURNAMES), d.pick(GIVEN), d.pick(GIVEN));
        SearchDoc {
            kind: "resident",
            grid_id: Some(grid),
            born: Some("1970-01-01".into()),
            title: name.clone(),
            detail: "340***********1234".into(),
            tokens: wangge_search::document(&[&name], &[]),
        }
    } else {
        let text = format!(
            "{}{}号{}栋{}",
            d.pick(PLACES),
            d.next() % 200,
            d.next() % 40 + 1,
            d.pick(PROBLEMS)
        );
        SearchDoc {
            kind: "case",
            grid_id: Some(grid),
            born: None,
            title: format!("C{i:08}"),
            detail: text.clone(),
            tokens: wangge_search::document(&[], &[&text]),
        }
    }
}

/// Documents `[from, to)` of both kinds, made on all cores.
fn docs(from: u64, to: u64) -> Vec<(i64, SearchDoc)> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2) as u64;
    let chunk = (to - from).div_ceil(threads).max(1);
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (a, b) = (from + t * chunk, (from + (t + 1) * chunk).min(to));
            std::thread::spawn(move || {
                let mut out = Vec::with_capacity(((b.saturating_sub(a)) * 2) as usize);
                for i in a..b {
                    out.push((i as i64 * 2, doc(0, i)));
                    out.push((i as i64 * 2 + 1, doc(1, i)));
                }
                out
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap_or_default())
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// p50, p95, p99 in ms, hits per query, and the slowest query with its
/// median ms, over `rounds` passes of QUERIES.
async fn latencies(
    db: &dyn FieldStore,
    postgres: bool,
    grids: &[i64],
    rounds: usize,
) -> (f64, f64, f64, f64, (&'static str, f64)) {
    let mut times = Vec::new();
    let mut by_query: Vec<Vec<Duration>> = vec![Vec::new(); QUERIES.len()];
    let mut hits = 0usize;
    for r in 0..rounds {
        for (i, q) in QUERIES.iter().enumerate() {
            let terms = wangge_search::query(q);
            let t = Instant::now();
            let found = search::search(db, postgres, &terms, grids, "9999-12-31", 200)
                .await
                .expect("search");
            times.push(t.elapsed());
            by_query[i].push(t.elapsed());
            if r == 0 {
                hits += found.len();
            }
        }
    }
    times.sort();
    let slowest = by_query
        .iter_mut()
        .enumerate()
        .map(|(i, t)| {
            t.sort();
            (QUERIES[i], percentile(t, 0.5))
        })
        .fold(("", 0.0), |a, b| if b.1 > a.1 { b } else { a });
    (
        percentile(&times, 0.50),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        hits as f64 / QUERIES.len() as f64,
        slowest,
    )
}

fn temp_path(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wangge-bench-search-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    dir.join(format!("{name}.db"))
}

async fn load_sqlite(n: u64) -> (Arc<SqliteStore>, std::path::PathBuf, f64) {
    let path = temp_path("search");
    let store = SqliteStore::open(&path, 4).await.expect("sqlite");
    drop(store);
    let t = Instant::now();
    let mut conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;")
        .expect("pragmas");
    let step = 200_000;
    let mut from = 0;
    while from < n {
        let to = (from + step).min(n);
        let batch = docs(from, to);
        let tx = conn.transaction().expect("tx");
        {
            let mut insert = tx
                .prepare("INSERT INTO search_docs (id, kind, record_id, grid_id, born, title, detail, tokens) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
                .expect("prepare");
            for (id, d) in &batch {
                insert
                    .execute(params![
                        id + 1,
                        d.kind,
                        id,
                        d.grid_id,
                        d.born,
                        d.title,
                        d.detail,
                        d.tokens
                    ])
                    .expect("insert");
            }
        }
        tx.execute_batch(wangge_store::sqlite::SEARCH_FLUSH)
            .expect("index");
        tx.commit().expect("commit");
        from = to;
        print!(".");
        let _ = std::io::stdout().flush();
    }
    conn.execute_batch(
        "INSERT INTO search_fts(search_fts) VALUES ('optimize'); PRAGMA wal_checkpoint(TRUNCATE);",
    )
    .expect("optimize");
    drop(conn);
    let secs = t.elapsed().as_secs_f64();
    let store = Arc::new(SqliteStore::open(&path, 4).await.expect("sqlite"));
    (store, path, secs)
}

/// The LIKE baseline: ms per query, scanning the documents' text.
fn like_sqlite(path: &std::path::Path, grids: &[i64]) -> f64 {
    let conn = rusqlite::Connection::open(path).expect("open");
    let ids = format!(
        "[{}]",
        grids
            .iter()
            .map(|g| g.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let t = Instant::now();
    let mut n = 0;
    for q in QUERIES.iter().take(4) {
        let words: Vec<&str> = q.split(' ').collect();
        let mut stmt = conn
            .prepare_cached("SELECT kind, record_id FROM search_docs WHERE (title || ' ' || detail) LIKE ?1 AND (title || ' ' || detail) LIKE ?2 AND grid_id IN (SELECT value FROM json_each(?3)) LIMIT 200")
            .expect("prepare");
        let rows = stmt
            .query_map(
                params![format!("%{}%", words[0]), format!("%{}%", words[1]), ids],
                |_| Ok(()),
            )
            .expect("query");
        n += rows.count();
    }
    let _ = n;
    t.elapsed().as_secs_f64() * 1000.0 / 4.0
}

async fn load_postgres(url: &str, n: u64) -> Option<(PgStore, sqlx::PgPool, String, f64)> {
    let options = PgConnectOptions::from_str(url).ok()?;
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .ok()?;
    let schema = format!("wangge_search_{}", std::process::id());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    )))
    .execute(&admin)
    .await
    .ok()?;
    let store = PgStore::connect_with(options.options([("search_path", schema.as_str())]), 8)
        .await
        .ok()?;
    store.migrate().await.ok()?;
    let pool = store.pool().clone();
    let t = Instant::now();
    // Load without the GIN index, then build it (as a bulk import would).
    sqlx::query("DROP INDEX search_docs_tsv")
        .execute(&pool)
        .await
        .ok()?;
    let step = 100_000;
    let mut from = 0;
    while from < n {
        let to = (from + step).min(n);
        let batch = docs(from, to);
        let mut ids = Vec::new();
        let mut kinds = Vec::new();
        let mut grids = Vec::new();
        let mut borns: Vec<Option<String>> = Vec::new();
        let mut titles = Vec::new();
        let mut details = Vec::new();
        let mut tokens = Vec::new();
        for (id, d) in batch {
            ids.push(id);
            kinds.push(d.kind.to_owned());
            grids.push(d.grid_id.unwrap_or(0));
            borns.push(d.born);
            titles.push(d.title);
            details.push(d.detail);
            tokens.push(d.tokens);
        }
        sqlx::query(
            "INSERT INTO search_docs (kind, record_id, grid_id, born, title, detail, tokens) \
             SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])",
        )
        .bind(kinds)
        .bind(ids)
        .bind(grids)
        .bind(borns)
        .bind(titles)
        .bind(details)
        .bind(tokens)
        .execute(&pool)
        .await
        .ok()?;
        from = to;
        print!(".");
        let _ = std::io::stdout().flush();
    }
    sqlx::query("CREATE INDEX search_docs_tsv ON search_docs USING GIN (tsv)")
        .execute(&pool)
        .await
        .ok()?;
    sqlx::query("ANALYZE search_docs")
        .execute(&pool)
        .await
        .ok()?;
    Some((store, admin, schema, t.elapsed().as_secs_f64()))
}

/// Characters per second segmented by jieba-rs and, if available, Python's jieba.
fn segmentation() -> String {
    let mut text = String::new();
    for i in 0..20_000u64 {
        text.push_str(&doc(1, i).detail);
        text.push('。');
    }
    let chars = text.chars().count() as f64;
    let path = std::env::temp_dir().join(format!("wangge-bench-seg-{}.txt", std::process::id()));
    let _ = std::fs::write(&path, &text);
    // Warm up (dictionary load), then time three passes.
    let head: String = text.chars().take(1000).collect();
    let _ = wangge_search::document(&[], &[&head]);
    let t = Instant::now();
    for _ in 0..3 {
        std::hint::black_box(wangge_search::document(&[], &[&text]));
    }
    let rust = chars * 3.0 / t.elapsed().as_secs_f64();
    let python =
        std::env::var("WANGGE_BENCH_PYTHON").unwrap_or_else(|_| "target/py/bin/python".into());
    let script = format!(
        "import jieba,time,sys\njieba.initialize()\nt=open(r'{}',encoding='utf-8').read()\nlist(jieba.cut_for_search(t[:3000]))\ns=time.perf_counter()\nfor _ in range(3): list(jieba.cut_for_search(t))\nprint(len(t)*3/(time.perf_counter()-s))",
        path.display()
    );
    let py = std::process::Command::new(&python)
        .args(["-c", &script])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        });
    let _ = std::fs::remove_file(&path);
    match py {
        Some(p) => {
            println!(
                "{:<52} {:>12.0} chars/s\n{:<52} {:>12.0} chars/s  (jieba-rs {:.1}x)",
                "segmentation, jieba-rs (search mode, with folding)",
                rust,
                "segmentation, Python jieba 0.42 (cut_for_search)",
                p,
                rust / p
            );
            format!("segmentation {:.1}x Python jieba", rust / p)
        }
        None => {
            println!(
                "{:<52} {:>12.0} chars/s  (Python jieba not available: {python})",
                "segmentation, jieba-rs", rust
            );
            "segmentation: Python jieba not available".into()
        }
    }
}

#[tokio::main]
async fn main() {
    let n: u64 = std::env::var("WANGGE_BENCH_SEARCH_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rounds = 20;
    let one = [3i64];
    let eight: Vec<i64> = (1..=8).collect();
    println!(
        "search: {n} resident + {n} case documents over 16 grids; {} two-word queries × {rounds}",
        QUERIES.len()
    );

    print!("loading SQLite ");
    let (sqlite, path, load) = load_sqlite(n).await;
    println!(" {load:.0} s");
    let (p50, p95, p99, hits, pslow) = latencies(&*sqlite, false, &one, rounds).await;
    println!(
        "{:<52} p50 {p50:>6.2} ms  p95 {p95:>6.2} ms  p99 {p99:>6.2} ms  ({hits:.0} hits/query; slowest {} {:.1} ms)",
        "SQLite FTS5, one grid (a grid worker)", pslow.0, pslow.1
    );
    let (e50, e95, e99, ehits, eslow) = latencies(&*sqlite, false, &eight, rounds).await;
    println!(
        "{:<52} p50 {e50:>6.2} ms  p95 {e95:>6.2} ms  p99 {e99:>6.2} ms  ({ehits:.0} hits/query; slowest {} {:.1} ms)",
        "SQLite FTS5, eight grids (a community)", eslow.0, eslow.1
    );
    let like = like_sqlite(&path, &one);
    println!(
        "{:<52} {like:>8.1} ms/query  (FTS5 p95 is {:.0}x faster)",
        "baseline: LIKE '%word%' scan, one grid",
        like / p95
    );
    drop(sqlite);
    let _ = std::fs::remove_dir_all(path.parent().unwrap_or(&path));

    let url = std::env::var("WANGGE_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    print!("loading PostgreSQL ");
    let pg_summary = match load_postgres(&url, n).await {
        Some((store, admin, schema, load)) => {
            println!(" {load:.0} s");
            let (g50, g95, g99, ghits, gslow) = latencies(&store, true, &one, rounds).await;
            println!(
                "{:<52} p50 {g50:>6.2} ms  p95 {g95:>6.2} ms  p99 {g99:>6.2} ms  ({ghits:.0} hits/query; slowest {} {:.1} ms)",
                "PostgreSQL tsvector + GIN, one grid", gslow.0, gslow.1
            );
            let (h50, h95, h99, hhits, hslow) = latencies(&store, true, &eight, rounds).await;
            println!(
                "{:<52} p50 {h50:>6.2} ms  p95 {h95:>6.2} ms  p99 {h99:>6.2} ms  ({hhits:.0} hits/query; slowest {} {:.1} ms)",
                "PostgreSQL tsvector + GIN, eight grids", hslow.0, hslow.1
            );
            drop(store);
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE"
            )))
            .execute(&admin)
            .await;
            format!("PostgreSQL p95 {g95:.1}/{h95:.1} ms")
        }
        None => {
            println!(" unreachable ({url}): skipped");
            "PostgreSQL skipped".into()
        }
    };
    let seg = segmentation();
    println!(
        "summary: {n}+{n} docs, SQLite p95 {p95:.1} ms (one grid) / {e95:.1} ms (eight grids), {:.0}x a LIKE scan; {pg_summary}; {seg}",
        like / p95
    );
}
