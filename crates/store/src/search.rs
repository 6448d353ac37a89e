//! The search index: what each record is found by and what a result shows.
//!
//! Documents are made here from the rows being written (the tokens are
//! computed by the caller's task, before the write is queued) and written
//! by the same transaction as their record, on both backends. A result
//! shows only what lists show: names, addresses, masked ID and phone
//! numbers.

use serde::Serialize;
use wangge_core::org::Id;
use wangge_search::{Term, document};

use crate::error::StoreResult;
use crate::field::{FieldStore, Row, Stmt, Val};
use crate::model::{BulkHousehold, BusinessRow, HouseholdRow, NewCase, ResidentRow};

/// Kinds of record search finds, in the order results are grouped.
pub const KINDS: &[&str] = &[
    "resident",
    "household",
    "business",
    "case",
    "opinion",
    "visit",
];

/// One record's entry in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDoc {
    pub kind: &'static str,
    pub grid_id: Option<Id>,
    /// A resident's birth date (`YYYY-MM-DD`), to leave minors out.
    pub born: Option<String>,
    pub title: String,
    pub detail: String,
    pub tokens: String,
}

fn clip(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

pub fn resident_doc(r: &ResidentRow) -> SearchDoc {
    let detail = match &r.phone_masked {
        Some(p) => format!("{} · {}", r.id_masked, p),
        None => r.id_masked.clone(),
    };
    SearchDoc {
        kind: "resident",
        grid_id: Some(r.grid_id),
        born: Some(r.birth_date.clone()),
        title: r.name.clone(),
        detail,
        tokens: document(&[&r.name], &[]),
    }
}

pub fn household_doc(h: &HouseholdRow) -> SearchDoc {
    SearchDoc {
        kind: "household",
        grid_id: Some(h.grid_id),
        born: None,
        title: h.address.clone(),
        detail: String::new(),
        tokens: document(&[], &[&h.address]),
    }
}

pub fn business_doc(b: &BusinessRow) -> SearchDoc {
    SearchDoc {
        kind: "business",
        grid_id: Some(b.grid_id),
        born: None,
        title: b.name.clone(),
        detail: format!("{} · {}", b.address, b.legal_rep),
        tokens: document(&[&b.name, &b.legal_rep], &[&b.address, &b.credit_code]),
    }
}

pub fn case_doc(c: &NewCase) -> SearchDoc {
    SearchDoc {
        kind: "case",
        grid_id: c.grid_id,
        born: None,
        title: c.public_code.clone(),
        detail: clip(&format!("{} {}", c.address, c.description), 80),
        tokens: document(&[], &[&c.public_code, &c.address, &c.description]),
    }
}

/// The documents of households and their residents, made on all cores
/// when there are many (a bulk import).
pub fn household_docs(
    households: &[(BulkHousehold, Vec<ResidentRow>)],
) -> Vec<(Option<SearchDoc>, Vec<SearchDoc>)> {
    let one = |(h, rs): &(BulkHousehold, Vec<ResidentRow>)| {
        (
            match h {
                BulkHousehold::New(h) => Some(household_doc(h)),
                BulkHousehold::Existing(_) => None,
            },
            rs.iter().map(resident_doc).collect::<Vec<_>>(),
        )
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if households.len() < 2_000 || threads < 2 {
        return households.iter().map(one).collect();
    }
    let chunk = households.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = households
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

pub fn text_doc(kind: &'static str, grid_id: Id, title: &str, body: &str) -> SearchDoc {
    SearchDoc {
        kind,
        grid_id: Some(grid_id),
        born: None,
        title: title.to_owned(),
        detail: clip(body, 80),
        tokens: document(&[], &[title, body]),
    }
}

/// A new record's document (bulk writes; nothing to replace).
pub(crate) const INSERT: &str = "INSERT INTO search_docs (kind, record_id, grid_id, born, title, detail, tokens) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(crate) const UPSERT: &str = "INSERT INTO search_docs (kind, record_id, grid_id, born, title, detail, tokens) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (kind, record_id) DO UPDATE SET \
     grid_id = excluded.grid_id, born = excluded.born, title = excluded.title, \
     detail = excluded.detail, tokens = excluded.tokens";
pub(crate) const RETITLE: &str =
    "UPDATE search_docs SET title = $1, tokens = $2 WHERE kind = $3 AND record_id = $4";
pub(crate) const DELETE: &str = "DELETE FROM search_docs WHERE kind = $1 AND record_id = $2";
/// Residents' and households' documents follow them to a new grid.
pub(crate) const REGRID_RESIDENTS: &str = "UPDATE search_docs SET grid_id = (SELECT r.grid_id FROM residents r WHERE r.id = search_docs.record_id) \
     WHERE kind = 'resident' AND record_id IN (SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id \
     JOIN dwellings d ON d.id = h.dwelling_id JOIN units u ON u.id = d.unit_id WHERE u.building_id = $1)";
pub(crate) const REGRID_HOUSEHOLDS: &str = "UPDATE search_docs SET grid_id = (SELECT h.grid_id FROM households h WHERE h.id = search_docs.record_id) \
     WHERE kind = 'household' AND record_id IN (SELECT h.id FROM households h \
     JOIN dwellings d ON d.id = h.dwelling_id JOIN units u ON u.id = d.unit_id WHERE u.building_id = $1)";

/// `(kind, record id, grid id, title, detail)` of matches in the grids.
const SEARCH_SQLITE: &str = "SELECT d.kind, d.record_id, d.grid_id, d.title, d.detail FROM search_fts \
     JOIN search_docs d ON d.id = search_fts.rowid \
     WHERE search_fts MATCH $1 AND d.grid_id = ANY($2) AND (d.born IS NULL OR d.born <= $3) LIMIT $4";
const SEARCH_POSTGRES: &str = "SELECT d.kind, d.record_id, d.grid_id, d.title, d.detail FROM search_docs d \
     WHERE d.tsv @@ to_tsquery('simple', $1) AND d.grid_id = ANY($2) AND (d.born IS NULL OR d.born <= $3) LIMIT $4";
/// The same when the grids are in the tsquery as tokens: `grid_id + 0`
/// only rechecks, so the planner does not AND in a bitmap of every
/// document of the grids from their btree index (125,000 for a grid of
/// `bench/search`: half of a one-grid search's time).
const SEARCH_POSTGRES_LISTED: &str = "SELECT d.kind, d.record_id, d.grid_id, d.title, d.detail FROM search_docs d \
     WHERE d.tsv @@ to_tsquery('simple', $1) AND (d.grid_id + 0) = ANY($2) AND (d.born IS NULL OR d.born <= $3) LIMIT $4";

#[cfg(test)]
pub(crate) const STATEMENTS: &[&str] = &[
    INSERT,
    UPSERT,
    RETITLE,
    DELETE,
    REGRID_RESIDENTS,
    REGRID_HOUSEHOLDS,
    SEARCH_SQLITE,
    SEARCH_POSTGRES,
    SEARCH_POSTGRES_LISTED,
];

pub(crate) fn upsert_params(doc: &SearchDoc, record_id: Val) -> Vec<Val> {
    vec![
        Val::text(doc.kind),
        record_id,
        Val::Int(doc.grid_id),
        Val::Text(doc.born.clone()),
        Val::text(doc.title.clone()),
        Val::text(doc.detail.clone()),
        Val::text(doc.tokens.clone()),
    ]
}

/// Scopes of up to this many grids are also matched in the index (a grid
/// worker's, a grid leader's); wider scopes hold enough matches that the
/// filter after the index is faster (measured by `bench/search`).
const MAX_LISTED_GRIDS: usize = 4;

/// A record found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    pub kind: String,
    pub record_id: Id,
    pub grid_id: Option<Id>,
    pub title: String,
    pub detail: String,
}

/// Records in the grids whose tokens hold every term; residents born
/// after `born_on_or_before` are left out.
pub async fn search(
    db: &dyn FieldStore,
    postgres: bool,
    terms: &[Term],
    grid_ids: &[Id],
    born_on_or_before: &str,
    limit: i64,
) -> StoreResult<Vec<Hit>> {
    if terms.is_empty() || grid_ids.is_empty() {
        return Ok(Vec::new());
    }
    // The grids as index tokens too, when few enough to list; the SQL
    // filter on grid_id decides in any case.
    let listed = grid_ids.len() <= MAX_LISTED_GRIDS;
    let grids = |sep: &str| {
        grid_ids
            .iter()
            .map(|g| format!("zgrid{g}"))
            .collect::<Vec<_>>()
            .join(sep)
    };
    let (sql, q) = if postgres {
        let q = wangge_search::tsquery(terms);
        let q = if listed {
            format!("({q}) & ({})", grids(" | "))
        } else {
            q
        };
        if listed {
            (SEARCH_POSTGRES_LISTED, q)
        } else {
            (SEARCH_POSTGRES, q)
        }
    } else {
        let q = wangge_search::fts5_query(terms);
        let q = if listed {
            format!("({q}) AND ({})", grids(" OR "))
        } else {
            q
        };
        (SEARCH_SQLITE, q)
    };
    let rows = db
        .field_query(Stmt::new(
            sql,
            vec![
                Val::text(q),
                Val::Ids(grid_ids.to_vec()),
                Val::text(born_on_or_before),
                Val::Int(Some(limit)),
            ],
        ))
        .await?;
    rows.iter().map(hit).collect()
}

fn hit(r: &Row) -> StoreResult<Hit> {
    Ok(Hit {
        kind: r.text(0)?,
        record_id: r.int(1)?,
        grid_id: r.opt_int(2)?,
        title: r.text(3)?,
        detail: r.text(4)?,
    })
}
