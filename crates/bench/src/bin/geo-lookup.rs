//! Point → grid lookup: wangge's in-memory index (rstar R-tree + exact
//! polygon test) against PostGIS `ST_Contains` over a GiST index, on the
//! same synthetic grids and the same points, in the same run.
//!
//! Run through `bench/geo-lookup`. Environment:
//! - `WANGGE_BENCH_PG_URL` (default `postgres://postgres@127.0.0.1:5432/test`)
//! - `WANGGE_BENCH_SIZES` (default `1000,10000,100000`)

use std::hint::black_box;
use std::str::FromStr;
use std::time::Instant;

use jiff::Timestamp;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgPool};
use wangge_core::GeoPoint;
use wangge_geo::synthetic::{Lattice, mix};
use wangge_geo::{GridIndex, IndexedBoundary};

const LOOKUPS: usize = 200_000;
const PG_BATCH_LOOKUPS: usize = 20_000;
const PG_ROUNDTRIP_LOOKUPS: usize = 2_000;
const RUNS: usize = 5;

const LATTICE: Lattice = Lattice {
    origin: (110.0, 25.0),
    cell: (0.0042, 0.0036),
};

fn side(n: usize) -> usize {
    (n as f64).sqrt().ceil() as usize
}

fn cells(n: usize) -> impl Iterator<Item = (usize, usize)> {
    let s = side(n);
    (0..n).map(move |k| (k % s, k / s))
}

/// Query points spread over the lattice's box (about 1 in 10 falls
/// outside every grid, beyond the last row).
fn points(n: usize, count: usize) -> Vec<GeoPoint> {
    let s = side(n) as f64;
    let rows = (n as f64 / s).ceil();
    (0..count as u64)
        .map(|k| {
            let u = (mix(k) >> 11) as f64 / (1u64 << 53) as f64;
            let v = (mix(k ^ 0x5555) >> 11) as f64 / (1u64 << 53) as f64;
            GeoPoint::new(
                LATTICE.origin.0 + u * s * LATTICE.cell.0,
                LATTICE.origin.1 + v * rows * 1.1 * LATTICE.cell.1,
            )
            .expect("in range")
        })
        .collect()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn rtree_ns(n: usize, pts: &[GeoPoint]) -> (f64, usize, f64) {
    let started = Instant::now();
    let at: Timestamp = "2026-01-01T00:00:00Z".parse().expect("timestamp");
    let index = GridIndex::new(
        cells(n)
            .enumerate()
            .map(|(k, (i, j))| IndexedBoundary {
                grid_id: k as i64 + 1,
                code: format!("{k:08}"),
                valid_from: "2025-01-01T00:00:00Z".parse().expect("timestamp"),
                valid_to: None,
                shape: LATTICE.cell_shape(i, j),
            })
            .collect(),
    );
    let build_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut found = 0;
    for p in pts.iter().take(10_000) {
        found += usize::from(index.locate(*p, at).is_some());
    }
    let runs = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            for p in pts {
                black_box(index.locate(black_box(*p), at));
            }
            t.elapsed().as_nanos() as f64 / pts.len() as f64
        })
        .collect();
    (median(runs), found, build_ms)
}

fn wkt(i: usize, j: usize) -> String {
    let ring: Vec<String> = LATTICE
        .cell_ring(i, j)
        .iter()
        .map(|[x, y]| format!("{x} {y}"))
        .collect();
    format!("POLYGON(({}))", ring.join(","))
}

async fn postgis(pool: &PgPool) -> Result<(), String> {
    sqlx::query("CREATE EXTENSION IF NOT EXISTS postgis")
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn load_postgis(pool: &PgPool, n: usize) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(
        "DROP TABLE IF EXISTS bench_grids; \
         CREATE TABLE bench_grids (id BIGINT PRIMARY KEY, geom geometry(Polygon, 4326) NOT NULL)",
    )
    .execute(pool)
    .await?;
    let all: Vec<(usize, usize)> = cells(n).collect();
    for (chunk_no, chunk) in all.chunks(2000).enumerate() {
        let ids: Vec<i64> = (0..chunk.len())
            .map(|k| (chunk_no * 2000 + k + 1) as i64)
            .collect();
        let wkts: Vec<String> = chunk.iter().map(|&(i, j)| wkt(i, j)).collect();
        sqlx::query(
            "INSERT INTO bench_grids (id, geom) \
             SELECT id, ST_GeomFromText(w, 4326) FROM UNNEST($1::bigint[], $2::text[]) AS t(id, w)",
        )
        .bind(&ids)
        .bind(&wkts)
        .execute(pool)
        .await?;
    }
    sqlx::raw_sql(
        "CREATE INDEX bench_grids_geom ON bench_grids USING GIST (geom); ANALYZE bench_grids",
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// In-database cost per lookup: one statement looks up a batch of points
/// (no round trip per point), lowest id winning as in wangge.
async fn postgis_batch_ns(pool: &PgPool, pts: &[GeoPoint]) -> Result<(f64, i64), sqlx::Error> {
    let lons: Vec<f64> = pts.iter().map(|p| p.lon).collect();
    let lats: Vec<f64> = pts.iter().map(|p| p.lat).collect();
    let sql = "SELECT COUNT(g.id) FROM UNNEST($1::float8[], $2::float8[]) AS p(lon, lat) \
               LEFT JOIN LATERAL (SELECT id FROM bench_grids \
                   WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)) \
                   ORDER BY id LIMIT 1) g ON true";
    let mut found = 0;
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        found = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(&lons)
            .bind(&lats)
            .fetch_one(pool)
            .await?;
        runs.push(t.elapsed().as_nanos() as f64 / pts.len() as f64);
    }
    Ok((median(runs), found))
}

/// What an app would pay asking PostGIS per point: one query per lookup.
async fn postgis_roundtrip_ns(pool: &PgPool, pts: &[GeoPoint]) -> Result<f64, sqlx::Error> {
    let t = Instant::now();
    for p in pts {
        let _: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM bench_grids \
             WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) ORDER BY id LIMIT 1",
        )
        .bind(p.lon)
        .bind(p.lat)
        .fetch_optional(pool)
        .await?;
    }
    Ok(t.elapsed().as_nanos() as f64 / pts.len() as f64)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let sizes: Vec<usize> = std::env::var("WANGGE_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let url = std::env::var("WANGGE_BENCH_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());

    let pool = match PgConnectOptions::from_str(&url) {
        Ok(options) => PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options.options([("search_path", "wangge_bench,public")]))
            .await
            .ok(),
        Err(_) => None,
    };
    let pool = match pool {
        Some(pool) => {
            let setup = sqlx::raw_sql("CREATE SCHEMA IF NOT EXISTS wangge_bench")
                .execute(&pool)
                .await
                .map_err(|e| e.to_string());
            match setup.and(postgis(&pool).await) {
                Ok(()) => Some(pool),
                Err(e) => {
                    println!("PostGIS column skipped: cannot enable postgis at {url}: {e}");
                    None
                }
            }
        }
        None => {
            println!("PostGIS column skipped: PostgreSQL at {url} is unreachable");
            None
        }
    };

    println!(
        "geo-lookup: point -> grid over synthetic 8-vertex grids; rtree {LOOKUPS} lookups, \
         PostGIS batch {PG_BATCH_LOOKUPS}, PostGIS round trips {PG_ROUNDTRIP_LOOKUPS}; median of {RUNS} runs"
    );
    println!(
        "{:>8} {:>10} {:>14} {:>10} {:>18} {:>10} {:>18} {:>10}",
        "grids",
        "build ms",
        "rtree ns",
        "hit rate",
        "postgis-batch ns",
        "ratio",
        "postgis-rt ns",
        "ratio"
    );
    let mut summary = Vec::new();
    for &n in &sizes {
        let pts = points(n, LOOKUPS);
        let (ns, found, build_ms) = rtree_ns(n, &pts);
        let hit = found as f64 / 10_000.0;
        let (batch, rt) = match &pool {
            Some(pool) => match load_postgis(pool, n).await {
                Ok(()) => {
                    let batch = postgis_batch_ns(pool, &pts[..PG_BATCH_LOOKUPS]).await;
                    let rt = postgis_roundtrip_ns(pool, &pts[..PG_ROUNDTRIP_LOOKUPS]).await;
                    if let Ok((_, pg_found)) = &batch {
                        let ours = pts[..PG_BATCH_LOOKUPS].len() as f64 * hit;
                        // Same answers, within sampling noise of the hit rate.
                        if (*pg_found as f64 - ours).abs() > ours * 0.05 + 50.0 {
                            println!(
                                "warning: PostGIS found {pg_found} of {PG_BATCH_LOOKUPS}, rtree about {ours:.0}"
                            );
                        }
                    }
                    (batch.ok().map(|b| b.0), rt.ok())
                }
                Err(e) => {
                    println!("PostGIS load failed at {n} grids: {e}");
                    (None, None)
                }
            },
            None => (None, None),
        };
        let show = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0}"));
        let ratio = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.0}x", v / ns));
        println!(
            "{:>8} {:>10.0} {:>14.0} {:>9.0}% {:>18} {:>10} {:>18} {:>10}",
            n,
            build_ms,
            ns,
            hit * 100.0,
            show(batch),
            ratio(batch),
            show(rt),
            ratio(rt)
        );
        summary.push((n, ns, batch));
    }
    if let Some(pool) = &pool {
        let _ = sqlx::raw_sql("DROP SCHEMA IF EXISTS wangge_bench CASCADE")
            .execute(pool)
            .await;
    }
    let line: Vec<String> = summary
        .iter()
        .map(|(n, ns, pg)| match pg {
            Some(pg) => format!(
                "{n} grids {ns:.0} ns ({:.0}x faster than PostGIS in-db)",
                pg / ns
            ),
            None => format!("{n} grids {ns:.0} ns"),
        })
        .collect();
    let goal = summary
        .iter()
        .find(|(n, _, _)| *n == 10_000)
        .map(|(_, ns, _)| {
            if *ns <= 1000.0 {
                " [goal <= 1000 ns at 10^4: met]"
            } else {
                " [goal <= 1000 ns at 10^4: MISSED]"
            }
        })
        .unwrap_or("");
    println!("summary: rtree lookup {}{goal}", line.join("; "));
}
