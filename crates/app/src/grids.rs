//! Grids: listing, detail, point lookup, and boundary import / export.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use wangge_core::codes::{CommunityCode, GridCode};
use wangge_core::org::{BoundaryVersion, Building, CommunitySummary, GridSummary, Id};
use wangge_core::{GeoPoint, time};
use wangge_geo::boundary::{self, BoundaryFeature, BoundaryProblem, FeatureError};
use wangge_geo::{GridIndex, IndexedBoundary};
use wangge_store::model::org_codes;
use wangge_store::{BoundaryChange, BoundaryChanges, BoundaryRow, OrgNames};

use crate::App;
use crate::error::{AppError, Resource};

/// A grid with its current boundary, boundary history and buildings.
#[derive(Debug, Clone, Serialize)]
pub struct GridDetail {
    pub summary: GridSummary,
    /// Current boundary as a GeoJSON geometry; `None` for a retired grid.
    pub boundary: Option<Value>,
    pub history: Vec<BoundaryVersion>,
    pub buildings: Vec<Building>,
}

/// How an import went (or, on a dry run, would go).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    pub effective: Option<Timestamp>,
    pub created: Vec<GridCode>,
    pub redrawn: Vec<GridCode>,
    pub renamed: Vec<GridCode>,
    pub unchanged: usize,
    /// Buildings that move to another grid because of the new boundaries.
    pub buildings_reassigned: usize,
    /// Buildings that no current boundary covers any more (they keep their grid).
    pub buildings_outside: usize,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// When the new boundaries take effect; now when `None`.
    pub effective: Option<Timestamp>,
    pub dry_run: bool,
}

/// The answer to "which grid is this point in?".
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Located {
    Inside { grid: Box<GridSummary> },
    Outside,
}

pub(crate) fn build_index(rows: Vec<BoundaryRow>) -> Result<GridIndex, AppError> {
    let boundaries = rows
        .into_iter()
        .map(|r| {
            let shape = boundary::stored_geometry(&r.geometry).map_err(|p| {
                AppError::Store(wangge_store::StoreError::Corrupt(format!(
                    "boundary of grid {} version {}: {p:?}",
                    r.code, r.version
                )))
            })?;
            Ok(IndexedBoundary {
                grid_id: r.grid_id,
                code: r.code.to_string(),
                valid_from: r.valid_from,
                valid_to: r.valid_to,
                shape,
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(GridIndex::new(boundaries))
}

impl App {
    pub async fn list_communities(&self) -> Result<Vec<CommunitySummary>, AppError> {
        Ok(self.store.list_communities().await?)
    }

    pub async fn community(&self, code: &CommunityCode) -> Result<CommunitySummary, AppError> {
        self.list_communities()
            .await?
            .into_iter()
            .find(|c| &c.community.code == code)
            .ok_or(AppError::NotFound(Resource::Community))
    }

    pub async fn list_grids(
        &self,
        community: Option<&CommunityCode>,
    ) -> Result<Vec<GridSummary>, AppError> {
        Ok(self.store.list_grids(community).await?)
    }

    /// The boundaries in force of a community's grids, as GeoJSON geometries.
    pub async fn community_boundaries(
        &self,
        community: &CommunityCode,
    ) -> Result<HashMap<Id, Value>, AppError> {
        Ok(self
            .store
            .current_boundaries_of_community(community)
            .await?
            .into_iter()
            .filter_map(|r| Some((r.grid_id, serde_json::from_str(&r.geometry).ok()?)))
            .collect())
    }

    pub async fn grid_detail(&self, id: Id) -> Result<GridDetail, AppError> {
        let summary = self
            .store
            .grid(id)
            .await?
            .ok_or(AppError::NotFound(Resource::Grid))?;
        let history = self.store.boundary_history(id).await?;
        let boundary = history
            .iter()
            .find(|v| v.valid_to.is_none())
            .and_then(|v| serde_json::from_str(&v.geometry).ok());
        let buildings = self.store.buildings_of_grid(id).await?;
        Ok(GridDetail {
            summary,
            boundary,
            history,
            buildings,
        })
    }

    /// The grid holding `point` at `at` (now when `None`).
    pub async fn locate(
        &self,
        point: GeoPoint,
        at: Option<Timestamp>,
    ) -> Result<Located, AppError> {
        let at = at.unwrap_or_else(|| self.now());
        let Some(grid_id) = self.index().locate(point, at) else {
            return Ok(Located::Outside);
        };
        match self.store.grid(grid_id).await? {
            Some(grid) => Ok(Located::Inside {
                grid: Box::new(grid),
            }),
            // The index is a moment behind a concurrent change.
            None => Ok(Located::Outside),
        }
    }

    /// Reads a GeoJSON FeatureCollection and creates, redraws or renames
    /// grids, all or nothing. Buildings follow the new boundaries.
    pub async fn import_boundaries(
        &self,
        input: &[u8],
        options: ImportOptions,
    ) -> Result<ImportReport, AppError> {
        let features =
            boundary::parse_feature_collection(input).map_err(AppError::BadBoundaries)?;
        let now = self.now();
        let effective = time::truncate(options.effective.unwrap_or(now));

        let grids: HashMap<GridCode, GridSummary> = self
            .store
            .list_grids(None)
            .await?
            .into_iter()
            .map(|g| (g.grid.code.clone(), g))
            .collect();
        let rows = self.store.all_boundaries().await?;
        let current: HashMap<Id, &BoundaryRow> = rows
            .iter()
            .filter(|r| r.valid_to.is_none())
            .map(|r| (r.grid_id, r))
            .collect();
        let known = KnownOrg::from(self.store.list_communities().await?);

        let mut report = ImportReport {
            dry_run: options.dry_run,
            effective: Some(effective),
            ..ImportReport::default()
        };
        let mut changes = Vec::new();
        let mut errors = Vec::new();
        let mut new_shapes: HashMap<GridCode, &BoundaryFeature> = HashMap::new();
        for f in &features {
            let geometry = f.geometry_json();
            match grids.get(&f.code) {
                None => match known.names_for(f) {
                    Ok(names) => {
                        new_shapes.insert(f.code.clone(), f);
                        report.created.push(f.code.clone());
                        changes.push(BoundaryChange::Create {
                            code: f.code.clone(),
                            name: f.name.clone(),
                            external_code: f.external_code.clone(),
                            names,
                            geometry,
                        });
                    }
                    Err(problem) => errors.push(FeatureError {
                        index: Some(f.index),
                        problem,
                    }),
                },
                Some(g) => {
                    let cur = current.get(&g.grid.id);
                    if cur.is_none_or(|c| c.geometry != geometry) {
                        if let Some(c) = cur
                            && c.valid_from >= effective
                        {
                            errors.push(FeatureError {
                                index: Some(f.index),
                                problem: BoundaryProblem::InvalidTopology(format!(
                                    "the new boundary must take effect after the current one (from {})",
                                    c.valid_from
                                )),
                            });
                            continue;
                        }
                        new_shapes.insert(f.code.clone(), f);
                        report.redrawn.push(f.code.clone());
                        changes.push(BoundaryChange::Redraw {
                            grid_id: g.grid.id,
                            expected_version: cur.map_or(0, |c| c.version),
                            geometry,
                        });
                    }
                    if g.grid.name != f.name || g.grid.external_code != f.external_code {
                        report.renamed.push(f.code.clone());
                        changes.push(BoundaryChange::Rename {
                            grid_id: g.grid.id,
                            name: f.name.clone(),
                            external_code: f.external_code.clone(),
                        });
                    } else if !new_shapes.contains_key(&f.code) {
                        report.unchanged += 1;
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(AppError::BadBoundaries(errors));
        }

        // Where every building lies once the new boundaries are in force.
        let mut prospective: Vec<IndexedBoundary> = rows
            .iter()
            .filter(|r| r.valid_to.is_none() && !new_shapes.contains_key(&r.code))
            .filter_map(|r| {
                Some(IndexedBoundary {
                    grid_id: r.grid_id,
                    code: r.code.to_string(),
                    valid_from: r.valid_from,
                    valid_to: None,
                    shape: boundary::stored_geometry(&r.geometry).ok()?,
                })
            })
            .collect();
        let codes: Vec<GridCode> = new_shapes.keys().cloned().collect();
        // New shapes stand in with negative ids: -(position + 1).
        for (i, code) in codes.iter().enumerate() {
            prospective.push(IndexedBoundary {
                grid_id: -(i as Id) - 1,
                code: code.to_string(),
                valid_from: effective,
                valid_to: None,
                shape: new_shapes[code].shape.clone(),
            });
        }
        let id_to_code: HashMap<Id, &GridCode> =
            grids.values().map(|g| (g.grid.id, &g.grid.code)).collect();
        let index = GridIndex::new(prospective);
        let mut reassign = Vec::new();
        if !new_shapes.is_empty() {
            for b in self.store.all_buildings().await? {
                let target = index.locate(b.location, effective).and_then(|id| match id {
                    id if id < 0 => codes.get((-id - 1) as usize).cloned(),
                    id => id_to_code.get(&id).map(|c| (*c).clone()),
                });
                match target {
                    None => report.buildings_outside += 1,
                    Some(code) if Some(&code) != id_to_code.get(&b.grid_id).copied() => {
                        reassign.push((b.id, code));
                    }
                    Some(_) => {}
                }
            }
        }
        report.buildings_reassigned = reassign.len();

        if options.dry_run || changes.is_empty() {
            return Ok(report);
        }
        self.store
            .apply_boundary_changes(BoundaryChanges {
                effective,
                recorded_at: time::truncate(now),
                changes,
                reassign_buildings: reassign,
            })
            .await?;
        self.refresh_index().await?;
        Ok(report)
    }

    /// The boundaries valid at `at` (now when `None`) as a FeatureCollection
    /// that [`App::import_boundaries`] reads back unchanged.
    pub async fn export_boundaries(&self, at: Option<Timestamp>) -> Result<Value, AppError> {
        let at = at.unwrap_or_else(|| self.now());
        let grids: HashMap<Id, GridSummary> = self
            .store
            .list_grids(None)
            .await?
            .into_iter()
            .map(|g| (g.grid.id, g))
            .collect();
        let mut features = Vec::new();
        for row in self.store.all_boundaries().await? {
            let valid = row.valid_from <= at && row.valid_to.is_none_or(|to| at < to);
            let (true, Some(g)) = (valid, grids.get(&row.grid_id)) else {
                continue;
            };
            let geometry: Value = serde_json::from_str(&row.geometry).map_err(|e| {
                AppError::Store(wangge_store::StoreError::Corrupt(format!(
                    "boundary of grid {}: {e}",
                    row.code
                )))
            })?;
            features.push(json!({
                "type": "Feature",
                "properties": {
                    "code": g.grid.code,
                    "name": g.grid.name,
                    "external_code": g.grid.external_code,
                    "community_code": g.community_code,
                    "community_name": g.community_name,
                    "street_code": g.street_code,
                    "street_name": g.street_name,
                    "district_code": g.district_code,
                    "district_name": g.district_name,
                    "version": row.version,
                    "valid_from": row.valid_from.to_string(),
                },
                "geometry": geometry,
            }));
        }
        Ok(json!({ "type": "FeatureCollection", "features": features }))
    }
}

/// Org units that exist, to decide which names an import must supply.
struct KnownOrg {
    districts: HashSet<String>,
    streets: HashSet<String>,
    communities: HashSet<String>,
}

impl From<Vec<CommunitySummary>> for KnownOrg {
    fn from(list: Vec<CommunitySummary>) -> Self {
        Self {
            districts: list.iter().map(|c| c.district_code.to_string()).collect(),
            streets: list.iter().map(|c| c.street_code.to_string()).collect(),
            communities: list.iter().map(|c| c.community.code.to_string()).collect(),
        }
    }
}

impl KnownOrg {
    /// The names to create missing units with; a missing name is a problem.
    fn names_for(&self, f: &BoundaryFeature) -> Result<OrgNames, BoundaryProblem> {
        let (district, street, community) = org_codes(&f.code);
        let need = |known: &HashSet<String>, code: &str, name: &Option<String>, prop| {
            if known.contains(code) {
                Ok(None)
            } else {
                name.clone()
                    .map(Some)
                    .ok_or(BoundaryProblem::MissingProperty(prop))
            }
        };
        Ok(OrgNames {
            district: need(
                &self.districts,
                district.as_str(),
                &f.district_name,
                "district_name",
            )?,
            street: need(
                &self.streets,
                street.as_str(),
                &f.street_name,
                "street_name",
            )?,
            community: need(
                &self.communities,
                community.as_str(),
                &f.community_name,
                "community_name",
            )?,
        })
    }
}
