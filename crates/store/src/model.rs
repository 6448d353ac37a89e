//! What callers hand to the store to write.

use jiff::Timestamp;
use wangge_core::codes::{CommunityCode, ExternalGridCode, GridCode};
use wangge_core::org::{BuildingUse, Id};
use wangge_core::{DistrictCode, GeoPoint, StreetCode};

/// Names for org units that an import may create. A unit that already
/// exists keeps its name.
#[derive(Debug, Clone, Default)]
pub struct OrgNames {
    pub district: Option<String>,
    pub street: Option<String>,
    pub community: Option<String>,
}

/// One change to the set of grid boundaries.
#[derive(Debug, Clone)]
pub enum BoundaryChange {
    /// A grid that does not exist yet, with its first boundary; missing
    /// community, street and district are created from `names`.
    Create {
        code: GridCode,
        name: String,
        external_code: Option<ExternalGridCode>,
        names: OrgNames,
        geometry: String,
    },
    /// A new drawing of an existing grid: the current version (which must
    /// still be `expected_version`) is closed and a new one opened.
    Redraw {
        grid_id: Id,
        expected_version: i64,
        geometry: String,
    },
    /// New name or external code, boundary unchanged.
    Rename {
        grid_id: Id,
        name: String,
        external_code: Option<ExternalGridCode>,
    },
}

/// A set of boundary changes applied atomically, with the buildings whose
/// grid changes because of them.
#[derive(Debug, Clone)]
pub struct BoundaryChanges {
    pub effective: Timestamp,
    pub recorded_at: Timestamp,
    pub changes: Vec<BoundaryChange>,
    /// Building id → code of the grid that now holds it.
    pub reassign_buildings: Vec<(Id, GridCode)>,
}

impl BoundaryChanges {
    /// Codes of the org units the changes need, with the names to create them.
    pub fn org_units(&self) -> impl Iterator<Item = (&GridCode, &OrgNames)> {
        self.changes.iter().filter_map(|c| match c {
            BoundaryChange::Create { code, names, .. } => Some((code, names)),
            _ => None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct NewUnit {
    pub number: i64,
    pub floors: i64,
    pub dwellings_per_floor: i64,
}

#[derive(Debug, Clone)]
pub struct NewBuilding {
    pub community_id: Id,
    pub grid_id: Id,
    pub number: String,
    pub name: String,
    pub address: String,
    pub location: GeoPoint,
    pub floors: i64,
    pub building_use: BuildingUse,
    pub units: Vec<NewUnit>,
}

/// A stored boundary version with its grid code, for building the index.
#[derive(Debug, Clone)]
pub struct BoundaryRow {
    pub grid_id: Id,
    pub code: GridCode,
    pub version: i64,
    pub valid_from: Timestamp,
    pub valid_to: Option<Timestamp>,
    pub geometry: String,
}

/// Org-unit codes a grid code implies, outermost first.
pub fn org_codes(code: &GridCode) -> (DistrictCode, StreetCode, CommunityCode) {
    let community = code.community();
    let street = community.street();
    (street.district(), street, community)
}
