-- Field work: patrols with their GPS tracks, check-ins and business
-- safety checks; care visits, major changes and referrals; campaigns with
-- their teams, targets and QR tokens; opinions; notices and who passed
-- them on.

CREATE TABLE patrols (
    id          INTEGER PRIMARY KEY,
    worker_id   INTEGER NOT NULL REFERENCES users (id),
    grid_id     INTEGER NOT NULL REFERENCES grids (id),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    distance_m  REAL NOT NULL DEFAULT 0,
    note        TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX patrols_grid ON patrols (grid_id, started_at);
CREATE INDEX patrols_worker ON patrols (worker_id, started_at);

-- Fixes are numbered by the phone: a batch sent twice is kept once.
CREATE TABLE patrol_points (
    patrol_id   INTEGER NOT NULL REFERENCES patrols (id),
    seq         INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    lon         REAL NOT NULL,
    lat         REAL NOT NULL,
    accuracy_m  REAL,
    PRIMARY KEY (patrol_id, seq)
) STRICT;

CREATE TABLE patrol_cases (
    patrol_id   INTEGER NOT NULL REFERENCES patrols (id),
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    PRIMARY KEY (patrol_id, case_id)
) STRICT;

CREATE TABLE checkins (
    id           INTEGER PRIMARY KEY,
    patrol_id    INTEGER REFERENCES patrols (id),
    worker_id    INTEGER NOT NULL REFERENCES users (id),
    grid_id      INTEGER NOT NULL REFERENCES grids (id),
    at           INTEGER NOT NULL,
    building_id  INTEGER REFERENCES buildings (id),
    household_id INTEGER REFERENCES households (id),
    business_id  INTEGER REFERENCES businesses (id),
    note         TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX checkins_grid ON checkins (grid_id, at);
CREATE INDEX checkins_patrol ON checkins (patrol_id);

CREATE TABLE inspections (
    id           INTEGER PRIMARY KEY,
    business_id  INTEGER NOT NULL REFERENCES businesses (id),
    grid_id      INTEGER NOT NULL REFERENCES grids (id),
    inspector_id INTEGER NOT NULL REFERENCES users (id),
    patrol_id    INTEGER REFERENCES patrols (id),
    at           INTEGER NOT NULL,
    answers      TEXT NOT NULL,
    failed       INTEGER NOT NULL,
    case_ids     TEXT NOT NULL DEFAULT '[]'
) STRICT;
CREATE INDEX inspections_business ON inspections (business_id, at);
CREATE INDEX inspections_grid ON inspections (grid_id, at);

-- Editable visit rules, in the order administrators keep them.
CREATE TABLE visit_rules (
    id          INTEGER PRIMARY KEY,
    position    INTEGER NOT NULL,
    name        TEXT NOT NULL,
    tag         TEXT,
    min_age     INTEGER,
    frequency   TEXT NOT NULL
) STRICT;

CREATE TABLE visits (
    id           INTEGER PRIMARY KEY,
    household_id INTEGER NOT NULL REFERENCES households (id),
    grid_id      INTEGER NOT NULL REFERENCES grids (id),
    worker_id    INTEGER NOT NULL REFERENCES users (id),
    resident_id  INTEGER REFERENCES residents (id) ON DELETE SET NULL,
    visited_at   INTEGER NOT NULL,
    mode         TEXT NOT NULL,
    visitors     TEXT NOT NULL,
    situation    TEXT NOT NULL,
    needs        TEXT NOT NULL,
    due_at       INTEGER,
    on_time      INTEGER NOT NULL CHECK (on_time IN (0, 1)),
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX visits_household ON visits (household_id, visited_at);
CREATE INDEX visits_grid ON visits (grid_id, visited_at);

CREATE TABLE major_changes (
    id           INTEGER PRIMARY KEY,
    resident_id  INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    household_id INTEGER NOT NULL REFERENCES households (id),
    kind         TEXT NOT NULL,
    note         TEXT NOT NULL,
    at           INTEGER NOT NULL,
    recorded_by  INTEGER NOT NULL REFERENCES users (id)
) STRICT;
CREATE INDEX major_changes_household ON major_changes (household_id, at);

CREATE TABLE referrals (
    id           INTEGER PRIMARY KEY,
    visit_id     INTEGER REFERENCES visits (id),
    household_id INTEGER NOT NULL REFERENCES households (id),
    resident_id  INTEGER REFERENCES residents (id) ON DELETE SET NULL,
    grid_id      INTEGER NOT NULL REFERENCES grids (id),
    need_kind    TEXT NOT NULL,
    programme    TEXT NOT NULL,
    detail       TEXT NOT NULL,
    status       TEXT NOT NULL,
    case_id      INTEGER REFERENCES cases (id),
    created_by   INTEGER NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX referrals_grid ON referrals (grid_id, status);
CREATE INDEX referrals_household ON referrals (household_id);

CREATE TABLE referral_events (
    id           INTEGER PRIMARY KEY,
    referral_id  INTEGER NOT NULL REFERENCES referrals (id),
    at           INTEGER NOT NULL,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    status       TEXT NOT NULL,
    note         TEXT NOT NULL
) STRICT;
CREATE INDEX referral_events_referral ON referral_events (referral_id, at);

CREATE TABLE campaigns (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    template     TEXT NOT NULL,
    goal         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    community_id INTEGER NOT NULL REFERENCES communities (id),
    starts_on    TEXT NOT NULL,
    ends_on      TEXT NOT NULL,
    filter       TEXT NOT NULL,
    created_by   INTEGER NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX campaigns_community ON campaigns (community_id);

-- A team member works the targets of one building (or one unit of it).
CREATE TABLE campaign_teams (
    id           INTEGER PRIMARY KEY,
    campaign_id  INTEGER NOT NULL REFERENCES campaigns (id),
    user_id      INTEGER NOT NULL REFERENCES users (id),
    building_id  INTEGER NOT NULL REFERENCES buildings (id),
    unit_id      INTEGER REFERENCES units (id)
) STRICT;
CREATE UNIQUE INDEX campaign_teams_once
    ON campaign_teams (campaign_id, user_id, building_id, COALESCE(unit_id, 0));
CREATE INDEX campaign_teams_user ON campaign_teams (user_id, campaign_id);

CREATE TABLE campaign_targets (
    id              INTEGER PRIMARY KEY,
    campaign_id     INTEGER NOT NULL REFERENCES campaigns (id),
    subject_id      INTEGER NOT NULL,
    grid_id         INTEGER NOT NULL REFERENCES grids (id),
    building_id     INTEGER REFERENCES buildings (id),
    building_number TEXT,
    unit_id         INTEGER REFERENCES units (id),
    unit_number     INTEGER,
    floor           INTEGER,
    door            TEXT,
    label           TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    reason          TEXT,
    note            TEXT NOT NULL DEFAULT '',
    updated_at      INTEGER,
    updated_by      INTEGER REFERENCES users (id),
    version         INTEGER NOT NULL DEFAULT 1,
    UNIQUE (campaign_id, subject_id)
) STRICT;
CREATE INDEX campaign_targets_place ON campaign_targets (campaign_id, grid_id, building_id, unit_id);
CREATE INDEX campaign_targets_subject ON campaign_targets (subject_id);

CREATE TABLE campaign_target_events (
    id          INTEGER PRIMARY KEY,
    target_id   INTEGER NOT NULL REFERENCES campaign_targets (id),
    at          INTEGER NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    status      TEXT NOT NULL,
    reason      TEXT,
    note        TEXT NOT NULL,
    via         TEXT NOT NULL
) STRICT;
CREATE INDEX campaign_target_events_target ON campaign_target_events (target_id, at);

-- Opaque check-in tokens printed on QR cards: the hash only, no personal data.
CREATE TABLE qr_tokens (
    id           INTEGER PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE,
    resident_id  INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    created_by   INTEGER NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX qr_tokens_resident ON qr_tokens (resident_id);

CREATE TABLE opinions (
    id            INTEGER PRIMARY KEY,
    grid_id       INTEGER NOT NULL REFERENCES grids (id),
    topic         TEXT NOT NULL,
    body          TEXT NOT NULL,
    voiced_by     TEXT NOT NULL,
    submitted_by  INTEGER NOT NULL REFERENCES users (id),
    created_at    INTEGER NOT NULL,
    status        TEXT NOT NULL DEFAULT 'open',
    answer        TEXT,
    answered_by   INTEGER REFERENCES users (id),
    answered_at   INTEGER,
    case_id       INTEGER REFERENCES cases (id)
) STRICT;
CREATE INDEX opinions_grid ON opinions (grid_id, created_at);
CREATE INDEX opinions_submitter ON opinions (submitted_by, created_at);

CREATE TABLE notices (
    id            INTEGER PRIMARY KEY,
    level         TEXT NOT NULL,
    unit_id       INTEGER NOT NULL,
    unit_name     TEXT NOT NULL,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    published_by  INTEGER NOT NULL REFERENCES users (id),
    published_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX notices_unit ON notices (level, unit_id, published_at);

CREATE TABLE notice_relays (
    id          INTEGER PRIMARY KEY,
    notice_id   INTEGER NOT NULL REFERENCES notices (id),
    worker_id   INTEGER NOT NULL REFERENCES users (id),
    grid_id     INTEGER NOT NULL REFERENCES grids (id),
    at          INTEGER NOT NULL,
    mode        TEXT NOT NULL,
    reach       INTEGER NOT NULL,
    note        TEXT NOT NULL
) STRICT;
CREATE INDEX notice_relays_notice ON notice_relays (notice_id, at);
