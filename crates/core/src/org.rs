//! The org hierarchy: district → street → community → grid, and the
//! buildings and units a grid contains.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::codes::{CommunityCode, DistrictCode, ExternalGridCode, GridCode, StreetCode};
use crate::geo::GeoPoint;

/// Database identity of a record. Ids are never shown as meaning anything.
pub type Id = i64;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct District {
    pub id: Id,
    pub code: DistrictCode,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Street {
    pub id: Id,
    pub district_id: Id,
    pub code: StreetCode,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Community {
    pub id: Id,
    pub street_id: Id,
    pub code: CommunityCode,
    pub name: String,
}

/// A community with its place in the hierarchy and its grid count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommunitySummary {
    pub community: Community,
    pub street_code: StreetCode,
    pub street_name: String,
    pub district_code: DistrictCode,
    pub district_name: String,
    pub grid_count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    pub id: Id,
    pub community_id: Id,
    pub code: GridCode,
    pub name: String,
    pub external_code: Option<ExternalGridCode>,
}

/// A grid with the names of the units above it, as lists show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridSummary {
    pub grid: Grid,
    pub community_code: CommunityCode,
    pub community_name: String,
    pub street_code: StreetCode,
    pub street_name: String,
    pub district_code: DistrictCode,
    pub district_name: String,
    /// Buildings currently assigned to the grid.
    pub building_count: i64,
}

/// One drawing of a grid's boundary, valid over `[valid_from, valid_to)`.
///
/// Redrawing a boundary closes the current version and opens a new one, so
/// that where a grid lay on any past date can still be answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundaryVersion {
    pub grid_id: Id,
    pub version: i64,
    pub valid_from: Timestamp,
    pub valid_to: Option<Timestamp>,
    /// A GeoJSON Polygon or MultiPolygon geometry, WGS-84, validated.
    pub geometry: String,
}

impl BoundaryVersion {
    pub fn valid_at(&self, at: Timestamp) -> bool {
        self.valid_from <= at && self.valid_to.is_none_or(|to| at < to)
    }
}

/// Use of a building (楼栋用途). Dwellings get their own use later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildingUse {
    Residential,
    Commercial,
    Mixed,
    Public,
}

impl BuildingUse {
    pub const ALL: [BuildingUse; 4] = [
        BuildingUse::Residential,
        BuildingUse::Commercial,
        BuildingUse::Mixed,
        BuildingUse::Public,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BuildingUse::Residential => "residential",
            BuildingUse::Commercial => "commercial",
            BuildingUse::Mixed => "mixed",
            BuildingUse::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == s)
    }
}

/// A building (楼栋) in a community, located in one grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Building {
    pub id: Id,
    pub community_id: Id,
    pub grid_id: Id,
    /// The number painted on the building, e.g. `13`; unique in its community.
    pub number: String,
    /// Display name, e.g. `13栋`.
    pub name: String,
    pub address: String,
    pub location: GeoPoint,
    pub floors: i64,
    pub building_use: BuildingUse,
    pub unit_count: i64,
}

/// A stairwell unit (单元) of a building.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    pub id: Id,
    pub building_id: Id,
    pub number: i64,
    pub floors: i64,
    pub dwellings_per_floor: i64,
}
