//! One search box: residents, households, businesses, cases, opinions and
//! visits, limited to what the actor may read, never showing an unmasked
//! ID or phone number. A full ID number is looked up exactly, through the
//! blind index.

use serde::Serialize;
use wangge_core::policy::{Action, Actor};
use wangge_store::search::{self as index, KINDS};

pub use wangge_store::search::Hit;

use crate::{App, AppError};

/// Results of one kind.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub kind: &'static str,
    pub hits: Vec<Hit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    pub query: String,
    /// The words looked for, after folding and segmentation.
    pub terms: Vec<String>,
    pub groups: Vec<Group>,
    pub total: usize,
}

/// Most hits a search answers.
pub const MAX_HITS: i64 = 200;

impl App {
    pub async fn search(&self, actor: &Actor, query: &str) -> Result<SearchResults, AppError> {
        let query = query.trim();
        if query.chars().count() > 100 {
            return Err(AppError::invalid(
                "q",
                "a search is at most 100 characters",
                "搜索内容不能超过 100 字",
            ));
        }
        let scope = self.scope_for(actor, Action::Read).await?;
        let mut hits: Vec<Hit> = Vec::new();
        if let Some(r) = self.find_resident_by_id_number(actor, query).await? {
            let r = r.resident;
            hits.push(Hit {
                kind: "resident".into(),
                record_id: r.id,
                grid_id: Some(r.grid_id),
                title: r.name,
                detail: match r.phone_masked {
                    Some(p) => format!("{} · {}", r.id_number_masked, p),
                    None => r.id_number_masked,
                },
            });
        }
        let terms = wangge_search::query(query);
        if hits.is_empty() && !scope.grid_ids.is_empty() {
            hits = index::search(
                &**self.store(),
                self.backend() == wangge_store::Backend::Postgres,
                &terms,
                &scope.grid_ids,
                scope.birth_cutoff_or_all(),
                MAX_HITS,
            )
            .await?;
        }
        let total = hits.len();
        let groups = KINDS
            .iter()
            .filter_map(|kind| {
                let of_kind: Vec<Hit> = hits.iter().filter(|h| h.kind == *kind).cloned().collect();
                (!of_kind.is_empty()).then_some(Group {
                    kind,
                    hits: of_kind,
                })
            })
            .collect();
        Ok(SearchResults {
            query: query.to_owned(),
            terms: terms.into_iter().map(|t| t.token).collect(),
            groups,
            total,
        })
    }
}
