//! The synthetic demo community: one street, two communities, sixteen grids
//! with irregular, edge-sharing polygons, and the buildings and units in
//! them. Deterministic: the same demo on every machine. Every name, code and
//! place is made up (the district code is in no official list).

use serde::Serialize;
use serde_json::{Value, json};
use wangge_core::codes::CommunityCode;
use wangge_core::org::BuildingUse;
use wangge_core::{GeoPoint, Lang, Localized};
use wangge_geo::synthetic::{Lattice, mix};
use wangge_store::{NewBuilding, NewUnit};

use crate::App;

pub mod cases;
pub mod field;
pub mod people;
use crate::error::AppError;
use crate::grids::{ImportOptions, Located};

pub const DISTRICT: (&str, &str) = ("340171", "新城区");
pub const STREET: (&str, &str) = ("340171001", "幸福路街道");
/// Code, name, compound names (one per grid) and roads of each community.
const COMMUNITIES: [(&str, &str, [&str; 8], [&str; 2]); 2] = [
    (
        "340171001001",
        "和平社区",
        [
            "和平里小区",
            "翠竹园",
            "电机厂宿舍",
            "东方花园",
            "春风苑",
            "银杏家园",
            "书香门第",
            "锦绣华庭",
        ],
        ["和平路", "长江西路"],
    ),
    (
        "340171001002",
        "春晖社区",
        [
            "春晖小区",
            "景和苑",
            "纺织新村",
            "怡景花园",
            "绿地公馆",
            "香樟雅苑",
            "馨园小区",
            "金桂苑",
        ],
        ["春晖路", "望江东路"],
    ),
];

const COLUMNS: usize = 4;
const ROWS_PER_COMMUNITY: usize = 2;
const NUMERALS: [&str; 8] = ["一", "二", "三", "四", "五", "六", "七", "八"];

#[derive(Debug, Clone, Default, Serialize)]
pub struct DemoReport {
    pub already_loaded: bool,
    pub communities: usize,
    pub grids: usize,
    pub buildings: usize,
    pub units: usize,
    pub households: usize,
    pub residents: usize,
    pub businesses: usize,
    pub cases: usize,
    /// Reminders and overdue notices the first sweep raised.
    pub notices: usize,
    /// Patrols, visits, referrals, campaigns, opinions and notices.
    pub field: field::FieldReport,
    /// Accounts created, with their one-time passwords (shown once).
    pub accounts: Vec<people::DemoAccount>,
}

const LATTICE: Lattice = Lattice {
    origin: (117.2480, 31.8420),
    cell: (0.0042, 0.0036),
};

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The demo's grid boundaries as an import file.
pub fn boundaries() -> Value {
    let mut features = Vec::new();
    for (c, (code, name, _, _)) in COMMUNITIES.iter().enumerate() {
        for row in 0..ROWS_PER_COMMUNITY {
            for col in 0..COLUMNS {
                let seq = row * COLUMNS + col;
                let j = c * ROWS_PER_COMMUNITY + row;
                let ring: Vec<[f64; 2]> = LATTICE
                    .cell_ring(col, j)
                    .into_iter()
                    .map(|[x, y]| [round6(x), round6(y)])
                    .collect();
                features.push(json!({
                    "type": "Feature",
                    "properties": {
                        "code": format!("{code}{:02}", seq + 1),
                        "name": format!("{name}第{}网格", NUMERALS[seq]),
                        "community_name": name,
                        "street_name": STREET.1,
                        "district_name": DISTRICT.1,
                    },
                    "geometry": { "type": "Polygon", "coordinates": [ring] },
                }));
            }
        }
    }
    json!({ "type": "FeatureCollection", "features": features })
}

impl App {
    /// Loads the demo community unless it is already there.
    /// Loads the whole demo: geography, people, businesses and one account
    /// per role. Parts already loaded are left as they are.
    pub async fn load_demo(&self) -> Result<DemoReport, AppError> {
        let mut report = self.load_demo_geography().await?;
        let people = self.load_demo_people().await?;
        report.already_loaded &= people.already_loaded;
        report.households = people.households;
        report.residents = people.residents;
        report.businesses = people.businesses;
        report.accounts = people.accounts;
        report.cases = self.load_demo_cases().await?;
        report.field = self.load_demo_field().await?;
        report.already_loaded &= report.cases == 0;
        if report.cases > 0 {
            // As if the sweeper had been running: reminders and overdue
            // notices in the inboxes, late cases moved up the ladder.
            let swept = self.sweep().await?;
            report.notices = swept.reminders + swept.overdue;
        }
        Ok(report)
    }

    /// Loads the demo's street, communities, grids, buildings and units.
    pub async fn load_demo_geography(&self) -> Result<DemoReport, AppError> {
        let first = community_code(COMMUNITIES[0].0)?
            .grid(1)
            .map_err(demo_error)?;
        if self.store.grid_by_code(&first).await?.is_some() {
            return Ok(DemoReport {
                already_loaded: true,
                communities: COMMUNITIES.len(),
                ..DemoReport::default()
            });
        }
        let file = boundaries().to_string();
        let imported = self
            .import_boundaries(file.as_bytes(), ImportOptions::default())
            .await?;

        let mut buildings = Vec::new();
        for (c, (code, _, compounds, roads)) in COMMUNITIES.iter().enumerate() {
            let community = self.community(&community_code(code)?).await?;
            let mut number = 0;
            for (row, road) in roads.iter().enumerate() {
                for col in 0..COLUMNS {
                    let seq = row * COLUMNS + col;
                    let j = c * ROWS_PER_COMMUNITY + row;
                    for by in 0..4 {
                        for bx in 0..3 {
                            let key = mix(((c * 100 + seq) * 100 + by * 10 + bx) as u64);
                            if key.is_multiple_of(7) {
                                continue; // a green, a school, a car park
                            }
                            let (lon, lat) = LATTICE.cell_point(
                                col,
                                j,
                                0.22 + bx as f64 * 0.28,
                                0.2 + by as f64 * 0.2,
                            );
                            let location =
                                GeoPoint::new(round6(lon), round6(lat)).map_err(demo_error)?;
                            let Located::Inside { grid } = self.locate(location, None).await?
                            else {
                                continue;
                            };
                            number += 1;
                            buildings.push(demo_building(
                                community.community.id,
                                grid.grid.id,
                                number,
                                key,
                                location,
                                compounds[seq],
                                road,
                                by == 0,
                            ));
                        }
                    }
                }
            }
        }
        let units = buildings.iter().map(|b| b.units.len()).sum();
        let count = buildings.len();
        self.store.insert_buildings(buildings).await?;
        Ok(DemoReport {
            already_loaded: false,
            communities: COMMUNITIES.len(),
            grids: imported.created.len(),
            buildings: count,
            units,
            ..DemoReport::default()
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn demo_building(
    community_id: i64,
    grid_id: i64,
    number: usize,
    key: u64,
    location: GeoPoint,
    compound: &str,
    road: &str,
    on_street: bool,
) -> NewBuilding {
    // Building 13 of each community has shops on its ground floor, with the
    // storm drain of the story in front of them.
    let building_use = if number == 13 {
        BuildingUse::Mixed
    } else if on_street && key.is_multiple_of(3) {
        BuildingUse::Commercial
    } else if key.is_multiple_of(29) {
        BuildingUse::Public
    } else {
        BuildingUse::Residential
    };
    let (floors, unit_count, per_floor) = match building_use {
        BuildingUse::Commercial => (2, 1, 6),
        BuildingUse::Public => (3, 1, 4),
        _ => match key % 7 {
            0..=2 => (6, 2 + (key % 2) as i64, 2),
            3 => (7, 3, 2),
            4 => (11, 2, 2),
            5 => (18, 2, 4),
            _ => (26, 2, 4),
        },
    };
    NewBuilding {
        community_id,
        grid_id,
        number: number.to_string(),
        name: format!("{number}栋"),
        address: format!("{road}{}号 {compound}{number}栋", 8 + number * 2),
        location,
        floors,
        building_use,
        units: (1..=unit_count)
            .map(|n| NewUnit {
                number: n,
                floors,
                dwellings_per_floor: per_floor,
            })
            .collect(),
    }
}

/// The demo's constants are valid; should one ever not be, say which.
fn demo_error(e: impl Localized + std::fmt::Display) -> AppError {
    AppError::invalid("demo", format!("demo data: {e}"), e.localized(Lang::Zh))
}

fn community_code(code: &str) -> Result<CommunityCode, AppError> {
    CommunityCode::parse(code).map_err(demo_error)
}
