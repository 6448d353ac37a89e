//! SQL text shared by both backends.
//!
//! Placeholders are `$1, $2, …`: PostgreSQL's native form, and in SQLite a
//! named parameter whose index is its order of first appearance, so binding
//! by position works on both as long as each statement introduces its
//! parameters in ascending order. Statements that differ between dialects
//! live in their backend module, not here.

macro_rules! grid_summary_select {
    () => {
        "SELECT g.id, g.community_id, g.code, g.name, g.external_code, \
                c.code, c.name, s.code, s.name, d.code, d.name, \
                (SELECT COUNT(*) FROM buildings b WHERE b.grid_id = g.id) \
         FROM grids g \
         JOIN communities c ON c.id = g.community_id \
         JOIN streets s ON s.id = c.street_id \
         JOIN districts d ON d.id = s.district_id"
    };
}

macro_rules! building_select {
    () => {
        "SELECT b.id, b.community_id, b.grid_id, b.number, b.name, b.address, b.lon, b.lat, \
                b.floors, b.building_use, (SELECT COUNT(*) FROM units u WHERE u.building_id = b.id) \
         FROM buildings b"
    };
}

pub const HEALTH: &str = "SELECT 1";

pub const LIST_COMMUNITIES: &str = "\
    SELECT c.id, c.street_id, c.code, c.name, s.code, s.name, d.code, d.name, \
           (SELECT COUNT(*) FROM grids g WHERE g.community_id = c.id) \
    FROM communities c \
    JOIN streets s ON s.id = c.street_id \
    JOIN districts d ON d.id = s.district_id \
    ORDER BY c.code";

pub const LIST_GRIDS: &str = concat!(grid_summary_select!(), " ORDER BY g.code");
pub const LIST_GRIDS_OF_COMMUNITY: &str =
    concat!(grid_summary_select!(), " WHERE c.code = $1 ORDER BY g.code");
pub const GRID_BY_ID: &str = concat!(grid_summary_select!(), " WHERE g.id = $1");
pub const GRID_BY_CODE: &str = concat!(grid_summary_select!(), " WHERE g.code = $1");

pub const BOUNDARY_HISTORY: &str = "\
    SELECT grid_id, version, valid_from, valid_to, geometry \
    FROM grid_boundaries WHERE grid_id = $1 ORDER BY version DESC";

pub const ALL_BOUNDARIES: &str = "\
    SELECT b.grid_id, g.code, b.version, b.valid_from, b.valid_to, b.geometry \
    FROM grid_boundaries b JOIN grids g ON g.id = b.grid_id \
    ORDER BY g.code, b.version";

pub const CURRENT_BOUNDARIES_OF_COMMUNITY: &str = "\
    SELECT b.grid_id, g.code, b.version, b.valid_from, b.valid_to, b.geometry \
    FROM grid_boundaries b \
    JOIN grids g ON g.id = b.grid_id \
    JOIN communities c ON c.id = g.community_id \
    WHERE c.code = $1 AND b.valid_to IS NULL \
    ORDER BY g.code";

pub const BOUNDARIES_REVISION: &str = "SELECT value FROM meta WHERE key = 'boundaries_revision'";
pub const BUMP_BOUNDARIES_REVISION: &str =
    "UPDATE meta SET value = value + 1 WHERE key = 'boundaries_revision'";

pub const INSERT_DISTRICT: &str =
    "INSERT INTO districts (code, name) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING";
pub const DISTRICT_ID: &str = "SELECT id FROM districts WHERE code = $1";
pub const INSERT_STREET: &str = "INSERT INTO streets (district_id, code, name) VALUES ($1, $2, $3) \
     ON CONFLICT (code) DO NOTHING";
pub const STREET_ID: &str = "SELECT id FROM streets WHERE code = $1";
pub const INSERT_COMMUNITY: &str = "INSERT INTO communities (street_id, code, name) VALUES ($1, $2, $3) \
     ON CONFLICT (code) DO NOTHING";
pub const COMMUNITY_ID: &str = "SELECT id FROM communities WHERE code = $1";

pub const INSERT_GRID: &str = "\
    INSERT INTO grids (community_id, code, name, external_code, created_at) \
    VALUES ($1, $2, $3, $4, $5) RETURNING id";
pub const GRID_ID: &str = "SELECT id FROM grids WHERE code = $1";
pub const RENAME_GRID: &str = "UPDATE grids SET name = $1, external_code = $2 WHERE id = $3";
pub const INSERT_BOUNDARY: &str = "\
    INSERT INTO grid_boundaries (grid_id, version, valid_from, valid_to, geometry, recorded_at) \
    VALUES ($1, $2, $3, NULL, $4, $5)";
pub const CLOSE_BOUNDARY: &str = "\
    UPDATE grid_boundaries SET valid_to = $1 \
    WHERE grid_id = $2 AND version = $3 AND valid_to IS NULL AND valid_from < $1";

pub const INSERT_BUILDING: &str = "\
    INSERT INTO buildings (community_id, grid_id, number, name, address, lon, lat, floors, building_use) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
pub const INSERT_UNIT: &str = "\
    INSERT INTO units (building_id, number, floors, dwellings_per_floor) VALUES ($1, $2, $3, $4)";
pub const REASSIGN_BUILDING: &str = "UPDATE buildings SET grid_id = $1 WHERE id = $2";
pub const BUILDINGS_OF_GRID: &str = concat!(
    building_select!(),
    " WHERE b.grid_id = $1 ORDER BY b.community_id, length(b.number), b.number"
);
pub const ALL_BUILDINGS: &str = concat!(building_select!(), " ORDER BY b.id");
pub const BUILDING_BY_ID: &str = concat!(building_select!(), " WHERE b.id = $1");
pub const UNITS_OF_BUILDING: &str = "\
    SELECT id, building_id, number, floors, dwellings_per_floor \
    FROM units WHERE building_id = $1 ORDER BY number";
