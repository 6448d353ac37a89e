-- Cases: categories, cases with their workflow facts and clock, pauses,
-- and the append-only timeline.

CREATE TABLE categories (
    id            INTEGER PRIMARY KEY,
    code          TEXT NOT NULL UNIQUE,
    parent_code   TEXT,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    department_id INTEGER REFERENCES departments (id),
    overall_limit TEXT NOT NULL,
    step_limits   TEXT NOT NULL,
    closure       TEXT NOT NULL,
    questions     TEXT NOT NULL,
    public        INTEGER NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    public_code     TEXT NOT NULL UNIQUE,
    category_id     INTEGER NOT NULL REFERENCES categories (id),
    source          TEXT NOT NULL,
    grid_id         INTEGER REFERENCES grids (id),
    lon             REAL,
    lat             REAL,
    address         TEXT NOT NULL,
    description     TEXT NOT NULL,
    urgency         TEXT NOT NULL,
    reporter_id     INTEGER REFERENCES users (id),
    reporter_name   TEXT,
    state           TEXT NOT NULL,
    pending         TEXT,
    level           TEXT NOT NULL,
    resume_to       TEXT,
    department_id   INTEGER REFERENCES departments (id),
    reported_at     INTEGER NOT NULL,
    clock_start     INTEGER NOT NULL,
    step            TEXT,
    step_started_at INTEGER,
    extra_hours     INTEGER NOT NULL DEFAULT 0,
    rework_count    INTEGER NOT NULL DEFAULT 0,
    closed_at       INTEGER,
    rating          INTEGER,
    rating_comment  TEXT,
    answers         TEXT NOT NULL,
    idempotency_key TEXT,
    request_hash    BLOB,
    version         INTEGER NOT NULL DEFAULT 1,
    UNIQUE (reporter_id, idempotency_key)
) STRICT;
CREATE INDEX cases_grid_state ON cases (grid_id, state);
CREATE INDEX cases_department_state ON cases (department_id, state);

CREATE TABLE case_pauses (
    case_id   INTEGER NOT NULL REFERENCES cases (id),
    from_at   INTEGER NOT NULL,
    to_at     INTEGER,
    reason    TEXT NOT NULL,
    review_on TEXT,
    PRIMARY KEY (case_id, from_at)
) STRICT;

CREATE TABLE case_events (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    at            INTEGER NOT NULL,
    actor_id      INTEGER REFERENCES users (id),
    action        TEXT NOT NULL,
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    visibility    TEXT NOT NULL,
    note          TEXT NOT NULL,
    department_id INTEGER REFERENCES departments (id)
) STRICT;
CREATE INDEX case_events_case ON case_events (case_id, id);

-- The working calendar: days that differ from "weekdays work, weekends rest".
CREATE TABLE calendar_days (
    day  TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL
) STRICT;
