-- Photos (stored in the database so that every app node serves them),
-- the in-app inbox, sweeper alerts, background jobs and webhooks.

-- A photo is uploaded first (case_id NULL, owned by its uploader) and
-- attached to a case's timeline entry when the report or action that
-- names it is saved.
CREATE TABLE photos (
    id           INTEGER PRIMARY KEY,
    uploaded_by  INTEGER NOT NULL REFERENCES users (id),
    uploaded_at  INTEGER NOT NULL,
    case_id      INTEGER REFERENCES cases (id),
    event_id     INTEGER REFERENCES case_events (id),
    content_type TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    bytes        BLOB NOT NULL,
    thumbnail    BLOB NOT NULL
) STRICT;
CREATE INDEX photos_case ON photos (case_id, id);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    case_id    INTEGER REFERENCES cases (id),
    kind       TEXT NOT NULL,
    at         INTEGER NOT NULL,
    message    TEXT NOT NULL,
    read_at    INTEGER
) STRICT;
CREATE INDEX notifications_user ON notifications (user_id, id);

-- What the sweeper already raised, so that it raises it once, whichever
-- app node runs it.
CREATE TABLE case_alerts (
    case_id INTEGER NOT NULL REFERENCES cases (id),
    key     TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (case_id, key)
) STRICT;

-- Background work. A job is claimed by one node for a lease; the sweeper
-- is one recurring job (unique_key 'sweep').
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    unique_key   TEXT UNIQUE,
    payload      TEXT NOT NULL,
    run_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    locked_by    TEXT,
    locked_until INTEGER,
    last_error   TEXT,
    state        TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'done', 'failed'))
) STRICT;
CREATE INDEX jobs_due ON jobs (state, run_at);

CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    events     TEXT NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
) STRICT;

-- The delivery log: one row per attempt.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    webhook_id  INTEGER NOT NULL REFERENCES webhooks (id),
    job_id      INTEGER NOT NULL REFERENCES jobs (id),
    event       TEXT NOT NULL,
    at          INTEGER NOT NULL,
    status      INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX webhook_attempts_hook ON webhook_attempts (webhook_id, id);
