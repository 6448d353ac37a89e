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

    pub fn label(self, lang: crate::i18n::Lang) -> &'static str {
        use crate::i18n::Lang;
        match (lang, self) {
            (Lang::Zh, BuildingUse::Residential) => "住宅",
            (Lang::Zh, BuildingUse::Commercial) => "商业",
            (Lang::Zh, BuildingUse::Mixed) => "商住",
            (Lang::Zh, BuildingUse::Public) => "公共",
            (Lang::En, u) => u.as_str(),
        }
    }
}

/// A building number as people write it: "13栋" and "13号" are building 13.
pub fn building_number(written: &str) -> &str {
    written.trim().trim_end_matches(['栋', '号'])
}

/// A dwelling's door number: floor, then its place on the floor in two
/// digits (12th floor, 3rd door → "1203"), as Chinese buildings number them.
pub fn door_number(floor: i64, place: i64) -> String {
    format!("{floor}{place:02}")
}

/// A unit (单元) as typed: its floors and dwellings per floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct UnitForm {
    pub floors: i64,
    pub dwellings_per_floor: i64,
}

/// A building as typed into a form, sent to the API or read from a sheet.
#[derive(Debug, Clone, Deserialize)]
pub struct BuildingForm {
    pub number: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: String,
    pub lon: f64,
    pub lat: f64,
    pub floors: i64,
    pub building_use: String,
    pub units: Vec<UnitForm>,
}

/// A checked building: its units are numbered from 1 in order.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildingInput {
    pub number: String,
    pub name: String,
    pub address: String,
    pub location: GeoPoint,
    pub floors: i64,
    pub building_use: BuildingUse,
    pub units: Vec<UnitForm>,
}

impl BuildingInput {
    /// Every dwelling of the building: (unit number, floor, door number,
    /// use). Dwellings of commercial and public buildings, and the ground
    /// floor of mixed ones, are for business; the others are lived in by
    /// their owners until the register says otherwise.
    pub fn dwellings(&self) -> Vec<(i64, i64, String, crate::register::DwellingUse)> {
        use crate::register::DwellingUse;
        let mut out = Vec::new();
        for (i, u) in self.units.iter().enumerate() {
            for floor in 1..=u.floors {
                let dwelling_use = match self.building_use {
                    BuildingUse::Commercial | BuildingUse::Public => DwellingUse::Commercial,
                    BuildingUse::Mixed if floor == 1 => DwellingUse::Commercial,
                    _ => DwellingUse::Own,
                };
                for place in 1..=u.dwellings_per_floor {
                    out.push((i as i64 + 1, floor, door_number(floor, place), dwelling_use));
                }
            }
        }
        out
    }
}

/// Most units a building may have.
pub const MAX_UNITS: usize = 50;
/// Most dwellings a building may have (a 50-storey tower of four units
/// with eight doors a floor has 1,600).
pub const MAX_DWELLINGS: i64 = 5_000;

impl BuildingForm {
    /// Checks every field; the position's grid is the caller's to check.
    pub fn check(&self) -> Result<BuildingInput, Vec<crate::register::FieldError>> {
        use crate::register::FieldError;
        let mut errors = Vec::new();
        let number = building_number(&self.number).to_owned();
        if number.is_empty() || number.chars().count() > 10 {
            errors.push(FieldError::new(
                "number",
                "a building number of 1 to 10 characters",
                "请填写楼栋号（10 字以内）",
            ));
        }
        let building_use = BuildingUse::parse(self.building_use.trim());
        if building_use.is_none() {
            errors.push(FieldError::new(
                "building_use",
                "residential, commercial, mixed or public",
                "用途应为住宅、商业、商住或公共",
            ));
        }
        if !(1..=200).contains(&self.floors) {
            errors.push(FieldError::new(
                "floors",
                "1 to 200 floors",
                "层数应为 1 至 200",
            ));
        }
        if self.units.is_empty()
            || self.units.len() > MAX_UNITS
            || self.units.iter().any(|u| {
                !(1..=200).contains(&u.floors) || !(1..=20).contains(&u.dwellings_per_floor)
            })
        {
            errors.push(FieldError::new(
                "units",
                "1 to 50 units, each with 1 to 200 floors and 1 to 20 dwellings per floor",
                "1 至 50 个单元，每单元 1 至 200 层、每层 1 至 20 户",
            ));
        } else if self
            .units
            .iter()
            .map(|u| u.floors * u.dwellings_per_floor)
            .sum::<i64>()
            > MAX_DWELLINGS
        {
            errors.push(FieldError::new(
                "units",
                "at most 5,000 dwellings in a building",
                "一栋楼最多 5000 户",
            ));
        }
        let name = self.name.trim();
        let address = self.address.trim();
        if name.chars().count() > 40 || address.chars().count() > 120 {
            errors.push(FieldError::new(
                "name",
                "a name of at most 40 and an address of at most 120 characters",
                "名称不超过 40 字，地址不超过 120 字",
            ));
        }
        let location = match GeoPoint::new(self.lon, self.lat) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(FieldError::new(
                    "location",
                    e.to_string(),
                    crate::i18n::Localized::localized(&e, crate::i18n::Lang::Zh),
                ));
                None
            }
        };
        match (building_use, location) {
            (Some(building_use), Some(location)) if errors.is_empty() => Ok(BuildingInput {
                name: if name.is_empty() {
                    format!("{number}栋")
                } else {
                    name.to_owned()
                },
                number,
                address: address.to_owned(),
                location,
                floors: self.floors,
                building_use,
                units: self.units.clone(),
            }),
            _ => Err(errors),
        }
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
