-- Geography: district → street → community → grid, versioned grid
-- boundaries, buildings and units. Timestamps are BIGINT microseconds UTC.

CREATE TABLE districts (
    id   INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
) STRICT;

CREATE TABLE streets (
    id          INTEGER PRIMARY KEY,
    district_id INTEGER NOT NULL REFERENCES districts (id),
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL
) STRICT;
CREATE INDEX streets_district ON streets (district_id);

CREATE TABLE communities (
    id        INTEGER PRIMARY KEY,
    street_id INTEGER NOT NULL REFERENCES streets (id),
    code      TEXT NOT NULL UNIQUE,
    name      TEXT NOT NULL
) STRICT;
CREATE INDEX communities_street ON communities (street_id);

CREATE TABLE grids (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities (id),
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    external_code TEXT UNIQUE,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX grids_community ON grids (community_id);

CREATE TABLE grid_boundaries (
    grid_id     INTEGER NOT NULL REFERENCES grids (id),
    version     INTEGER NOT NULL,
    valid_from  INTEGER NOT NULL,
    valid_to    INTEGER,
    geometry    TEXT NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (grid_id, version),
    CHECK (valid_to IS NULL OR valid_to > valid_from)
) STRICT;
CREATE UNIQUE INDEX grid_boundaries_current ON grid_boundaries (grid_id) WHERE valid_to IS NULL;

CREATE TABLE buildings (
    id           INTEGER PRIMARY KEY,
    community_id INTEGER NOT NULL REFERENCES communities (id),
    grid_id      INTEGER NOT NULL REFERENCES grids (id),
    number       TEXT NOT NULL,
    name         TEXT NOT NULL,
    address      TEXT NOT NULL,
    lon          REAL NOT NULL,
    lat          REAL NOT NULL,
    floors       INTEGER NOT NULL CHECK (floors > 0),
    building_use TEXT NOT NULL,
    UNIQUE (community_id, number)
) STRICT;
CREATE INDEX buildings_grid ON buildings (grid_id);

CREATE TABLE units (
    id                  INTEGER PRIMARY KEY,
    building_id         INTEGER NOT NULL REFERENCES buildings (id) ON DELETE CASCADE,
    number              INTEGER NOT NULL CHECK (number > 0),
    floors              INTEGER NOT NULL CHECK (floors > 0),
    dwellings_per_floor INTEGER NOT NULL CHECK (dwellings_per_floor > 0),
    UNIQUE (building_id, number)
) STRICT;

-- Counters other app nodes poll to learn that derived state is stale.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) STRICT;
INSERT INTO meta (key, value) VALUES ('boundaries_revision', 0);
