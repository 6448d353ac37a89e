-- The register (dwellings, households, residents, businesses), users and
-- their scopes, sessions, departments, and the hash-chained audit log.
-- ID numbers and phone numbers are stored only encrypted (*_cipher), with a
-- keyed blind index for exact lookup (*_blind) and the masked form shown by
-- default (*_masked).

CREATE TABLE departments (
    id   INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 1,
    disabled        INTEGER NOT NULL DEFAULT 0,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    created_at      INTEGER NOT NULL
) STRICT;

-- Where a user works: grids, communities or streets, or a department.
CREATE TABLE user_scopes (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('grid', 'community', 'street', 'department')),
    ref_id   INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind, ref_id)
) STRICT;

-- Sessions are found by the SHA-256 of their token, never the token itself.
CREATE TABLE sessions (
    token_hash  BLOB PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL
) STRICT;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE dwellings (
    id          INTEGER PRIMARY KEY,
    unit_id     INTEGER NOT NULL REFERENCES units (id),
    floor       INTEGER NOT NULL,
    number      TEXT NOT NULL,
    dwelling_use TEXT NOT NULL,
    area_m2     REAL,
    UNIQUE (unit_id, number)
) STRICT;

CREATE TABLE households (
    id          INTEGER PRIMARY KEY,
    grid_id     INTEGER NOT NULL REFERENCES grids (id),
    dwelling_id INTEGER REFERENCES dwellings (id),
    address     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX households_grid ON households (grid_id);
CREATE INDEX households_dwelling ON households (dwelling_id);

CREATE TABLE residents (
    id              INTEGER PRIMARY KEY,
    household_id    INTEGER NOT NULL REFERENCES households (id),
    grid_id         INTEGER NOT NULL REFERENCES grids (id),
    name            TEXT NOT NULL,
    gender          TEXT NOT NULL,
    birth_date      TEXT NOT NULL,
    id_cipher       BLOB NOT NULL,
    id_blind        BLOB NOT NULL UNIQUE,
    id_masked       TEXT NOT NULL,
    phone_cipher    BLOB,
    phone_masked    TEXT,
    ethnicity       TEXT NOT NULL,
    residence_type  TEXT NOT NULL,
    relation        TEXT NOT NULL,
    political_status TEXT NOT NULL,
    tags            TEXT NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX residents_grid ON residents (grid_id);
CREATE INDEX residents_household ON residents (household_id);

CREATE TABLE businesses (
    id              INTEGER PRIMARY KEY,
    grid_id         INTEGER NOT NULL REFERENCES grids (id),
    dwelling_id     INTEGER REFERENCES dwellings (id),
    address         TEXT NOT NULL,
    name            TEXT NOT NULL,
    credit_code     TEXT NOT NULL UNIQUE,
    legal_rep       TEXT NOT NULL,
    phone_cipher    BLOB,
    phone_masked    TEXT,
    opening_date    TEXT,
    status          TEXT NOT NULL,
    app_status      TEXT NOT NULL,
    app_reason      TEXT,
    app_note        TEXT NOT NULL DEFAULT '',
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX businesses_grid ON businesses (grid_id);

-- Append-only; each record carries the hash of the one before it.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_id    INTEGER,
    action      TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id   INTEGER,
    detail      TEXT NOT NULL,
    prev_hash   BLOB NOT NULL,
    hash        BLOB NOT NULL
) STRICT;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
