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
/// Households living in a building ($2) follow it to its new grid ($1).
pub const REASSIGN_HOUSEHOLDS: &str = "\
    UPDATE households SET grid_id = $1 WHERE dwelling_id IN \
        (SELECT d.id FROM dwellings d JOIN units u ON u.id = d.unit_id WHERE u.building_id = $2)";
/// And so do their members.
pub const REASSIGN_RESIDENTS: &str = "\
    UPDATE residents SET grid_id = $1 WHERE household_id IN \
        (SELECT h.id FROM households h JOIN dwellings d ON d.id = h.dwelling_id \
         JOIN units u ON u.id = d.unit_id WHERE u.building_id = $2)";
pub const BUILDINGS_OF_GRID: &str = concat!(
    building_select!(),
    " WHERE b.grid_id = $1 ORDER BY b.community_id, length(b.number), b.number"
);
pub const ALL_BUILDINGS: &str = concat!(building_select!(), " ORDER BY b.id");
pub const BUILDING_BY_ID: &str = concat!(building_select!(), " WHERE b.id = $1");
pub const UNITS_OF_BUILDING: &str = "\
    SELECT id, building_id, number, floors, dwellings_per_floor \
    FROM units WHERE building_id = $1 ORDER BY number";

// ---- Register. Scoped statements are macros taking the backend's clause
// for "grid id in the list bound as $1" (see each backend's `IN_SCOPE`).

macro_rules! resident_columns {
    () => {
        "r.id, r.household_id, r.grid_id, r.name, r.gender, r.birth_date, r.id_masked, \
         r.phone_masked, r.ethnicity, r.residence_type, r.relation, r.political_status, r.tags, r.version"
    };
}

/// Residents in scope ($1 grids, $2 birth cutoff), optionally of one
/// household ($3) or grid ($4), in household order; $5 limit, $6 offset.
macro_rules! residents_in_scope {
    ($in_scope:literal) => {
        concat!(
            "SELECT ",
            resident_columns!(),
            " FROM residents r WHERE r.grid_id ",
            $in_scope,
            " AND r.birth_date <= $2 \
              AND (CAST($3 AS BIGINT) IS NULL OR r.household_id = $3) \
              AND (CAST($4 AS BIGINT) IS NULL OR r.grid_id = $4) \
             ORDER BY r.household_id, r.id LIMIT $5 OFFSET $6"
        )
    };
}

macro_rules! resident_in_scope {
    ($in_scope:literal) => {
        concat!(
            "SELECT ",
            resident_columns!(),
            " FROM residents r WHERE r.grid_id ",
            $in_scope,
            " AND r.birth_date <= $2 AND r.id = $3"
        )
    };
}

macro_rules! resident_by_blind_in_scope {
    ($in_scope:literal) => {
        concat!(
            "SELECT ",
            resident_columns!(),
            " FROM residents r WHERE r.grid_id ",
            $in_scope,
            " AND r.birth_date <= $2 AND r.id_blind = $3"
        )
    };
}

macro_rules! resident_secrets_in_scope {
    ($in_scope:literal) => {
        concat!(
            "SELECT r.id_cipher, r.phone_cipher FROM residents r WHERE r.grid_id ",
            $in_scope,
            " AND r.birth_date <= $2 AND r.id = $3"
        )
    };
}

/// Updates a resident at the expected version ($20), if in scope ($18
/// grids, $19 birth cutoff). Parameters are numbered in order of first
/// appearance, as SQLite binds them.
macro_rules! update_resident_in_scope {
    ($in_scope:literal) => {
        concat!(
            "UPDATE residents SET household_id = $1, grid_id = $2, name = $3, gender = $4, \
                birth_date = $5, id_cipher = $6, id_blind = $7, id_masked = $8, \
                phone_cipher = $9, phone_masked = $10, ethnicity = $11, residence_type = $12, \
                relation = $13, political_status = $14, tags = $15, version = version + 1, \
                updated_at = $16 \
             WHERE id = $17 AND grid_id ",
            $in_scope,
            " AND birth_date <= $19 AND version = $20"
        )
    };
}

pub const INSERT_RESIDENT: &str = "\
    INSERT INTO residents (household_id, grid_id, name, gender, birth_date, id_cipher, id_blind, \
        id_masked, phone_cipher, phone_masked, ethnicity, residence_type, relation, \
        political_status, tags, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) RETURNING id";
pub const RESIDENT_EXISTS: &str = "SELECT version FROM residents WHERE id = $1";

macro_rules! household_columns {
    () => {
        "h.id, h.grid_id, h.dwelling_id, h.address, \
         (SELECT COUNT(*) FROM residents m WHERE m.household_id = h.id), \
         (SELECT m.name FROM residents m WHERE m.household_id = h.id AND m.relation = 'head' ORDER BY m.id LIMIT 1)"
    };
}

/// Households in scope ($1), optionally of one grid ($2) or dwelling's
/// unit ($3); $4 limit, $5 offset.
macro_rules! households_in_scope {
    ($in_scope:literal) => {
        concat!(
            "SELECT ",
            household_columns!(),
            " FROM households h \
             LEFT JOIN dwellings d ON d.id = h.dwelling_id \
             WHERE h.grid_id ",
            $in_scope,
            " AND (CAST($2 AS BIGINT) IS NULL OR h.grid_id = $2) \
              AND (CAST($3 AS BIGINT) IS NULL OR d.unit_id = $3) \
             ORDER BY d.unit_id, d.floor, d.number, h.id LIMIT $4 OFFSET $5"
        )
    };
}

macro_rules! household_in_scope {
    ($in_scope:literal) => {
        concat!(
            "SELECT ",
            household_columns!(),
            " FROM households h WHERE h.grid_id ",
            $in_scope,
            " AND h.id = $2"
        )
    };
}

/// Changes a household's address ($1, at $2) if it is in scope ($4).
macro_rules! update_household_in_scope {
    ($in_scope:literal) => {
        concat!(
            "UPDATE households SET address = $1, updated_at = $2 WHERE id = $3 AND grid_id ",
            $in_scope
        )
    };
}

pub const INSERT_HOUSEHOLD: &str = "\
    INSERT INTO households (grid_id, dwelling_id, address, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $4) RETURNING id";

pub const INSERT_DWELLING: &str = "\
    INSERT INTO dwellings (unit_id, floor, number, dwelling_use, area_m2) \
    VALUES ($1, $2, $3, $4, $5) RETURNING id";
pub const DWELLINGS_OF_UNIT: &str = "\
    SELECT id, unit_id, floor, number, dwelling_use, area_m2 FROM dwellings \
    WHERE unit_id = $1 ORDER BY floor, number";

macro_rules! business_columns {
    () => {
        "b.id, b.grid_id, b.dwelling_id, b.address, b.name, b.credit_code, b.legal_rep, \
         b.phone_masked, b.opening_date, b.status, b.app_status, b.app_reason, b.app_note, b.version"
    };
}

/// Businesses in scope ($1), optionally of one grid ($2); $3 limit, $4 offset.
macro_rules! businesses_in_scope {
    ($in_scope:literal) => {
        concat!(
            "SELECT ",
            business_columns!(),
            " FROM businesses b WHERE b.grid_id ",
            $in_scope,
            " AND (CAST($2 AS BIGINT) IS NULL OR b.grid_id = $2) \
             ORDER BY b.grid_id, b.name, b.id LIMIT $3 OFFSET $4"
        )
    };
}

macro_rules! business_in_scope {
    ($in_scope:literal) => {
        concat!(
            "SELECT ",
            business_columns!(),
            " FROM businesses b WHERE b.grid_id ",
            $in_scope,
            " AND b.id = $2"
        )
    };
}

macro_rules! business_secrets_in_scope {
    ($in_scope:literal) => {
        concat!(
            "SELECT NULL, b.phone_cipher FROM businesses b WHERE b.grid_id ",
            $in_scope,
            " AND b.id = $2"
        )
    };
}

macro_rules! update_business_in_scope {
    ($in_scope:literal) => {
        concat!(
            "UPDATE businesses SET grid_id = $1, dwelling_id = $2, address = $3, name = $4, \
                credit_code = $5, legal_rep = $6, phone_cipher = $7, phone_masked = $8, \
                opening_date = $9, status = $10, app_status = $11, app_reason = $12, \
                app_note = $13, version = version + 1, updated_at = $14 \
             WHERE id = $15 AND grid_id ",
            $in_scope,
            " AND version = $17"
        )
    };
}

pub const INSERT_BUSINESS: &str = "\
    INSERT INTO businesses (grid_id, dwelling_id, address, name, credit_code, legal_rep, \
        phone_cipher, phone_masked, opening_date, status, app_status, app_reason, app_note, \
        created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id";
pub const BUSINESS_EXISTS: &str = "SELECT version FROM businesses WHERE id = $1";

/// Grids within any of the listed grids ($1), communities ($2), streets ($3).
macro_rules! grids_in_units {
    ($in1:literal, $in2:literal, $in3:literal) => {
        concat!(
            "SELECT g.id FROM grids g JOIN communities c ON c.id = g.community_id \
             WHERE g.id ",
            $in1,
            " OR c.id ",
            $in2,
            " OR c.street_id ",
            $in3,
            " ORDER BY g.id"
        )
    };
}

macro_rules! buildings_in_scope {
    ($in_scope:literal) => {
        concat!(
            building_select!(),
            " WHERE b.grid_id ",
            $in_scope,
            " AND b.grid_id = $2 ORDER BY b.community_id, length(b.number), b.number"
        )
    };
}

// ---- Users, sessions, departments, audit.

pub const INSERT_USER: &str = "\
    INSERT INTO users (username, display_name, role, password_hash, created_at) \
    VALUES ($1, $2, $3, $4, $5) RETURNING id";
pub const INSERT_USER_SCOPE: &str =
    "INSERT INTO user_scopes (user_id, kind, ref_id) VALUES ($1, $2, $3)";
pub const USER_COLUMNS_BY_NAME: &str = "\
    SELECT id, username, display_name, role, password_hash, must_change_password, disabled, \
           failed_logins, locked_until FROM users WHERE username = $1";
pub const USER_COLUMNS_BY_ID: &str = "\
    SELECT id, username, display_name, role, password_hash, must_change_password, disabled, \
           failed_logins, locked_until FROM users WHERE id = $1";
pub const ALL_USERS: &str = "\
    SELECT id, username, display_name, role, password_hash, must_change_password, disabled, \
           failed_logins, locked_until FROM users ORDER BY username";
pub const USER_SCOPES: &str =
    "SELECT kind, ref_id FROM user_scopes WHERE user_id = $1 ORDER BY kind, ref_id";
pub const ALL_USER_SCOPES: &str =
    "SELECT user_id, kind, ref_id FROM user_scopes ORDER BY user_id, kind, ref_id";
pub const SET_PASSWORD: &str = "UPDATE users SET password_hash = $1, must_change_password = $2, failed_logins = 0, locked_until = NULL WHERE id = $3";
pub const SET_DISABLED: &str = "UPDATE users SET disabled = $1 WHERE id = $2";
pub const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";
/// Counts a failure; at the limit ($1) locks until $2 and starts counting anew.
pub const LOGIN_FAILED: &str = "\
    UPDATE users SET \
        locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END, \
        failed_logins = CASE WHEN failed_logins + 1 >= $1 THEN 0 ELSE failed_logins + 1 END \
    WHERE id = $3 RETURNING locked_until";
pub const LOGIN_SUCCEEDED: &str =
    "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1";
pub const INSERT_SESSION: &str = "\
    INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen) \
    VALUES ($1, $2, $3, $4, $4)";
pub const SESSION: &str =
    "SELECT user_id, csrf_token, created_at, last_seen FROM sessions WHERE token_hash = $1";
pub const TOUCH_SESSION: &str = "UPDATE sessions SET last_seen = $1 WHERE token_hash = $2";
pub const DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_hash = $1";

pub const INSERT_DEPARTMENT: &str =
    "INSERT INTO departments (code, name) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING";
pub const DEPARTMENT_ID: &str = "SELECT id FROM departments WHERE code = $1";
pub const ALL_DEPARTMENTS: &str = "SELECT id, code, name FROM departments ORDER BY code";

pub const LAST_AUDIT: &str = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1";
pub const INSERT_AUDIT: &str = "\
    INSERT INTO audit_log (seq, at, actor_id, action, record_kind, record_id, detail, prev_hash, hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub const AUDIT_PAGE: &str = "\
    SELECT seq, at, actor_id, action, record_kind, record_id, detail, prev_hash, hash \
    FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2";

pub const DWELLING_GRID: &str = "\
    SELECT b.grid_id FROM dwellings d \
    JOIN units u ON u.id = d.unit_id JOIN buildings b ON b.id = u.building_id \
    WHERE d.id = $1";

/// Deletes a resident in scope ($2 grids, $3 birth cutoff).
macro_rules! delete_resident_in_scope {
    ($in_scope:literal) => {
        concat!(
            "DELETE FROM residents WHERE id = $1 AND grid_id ",
            $in_scope,
            " AND birth_date <= $3"
        )
    };
}

/// Changes a building's description if its grid is in scope ($7).
macro_rules! update_building_in_scope {
    ($in_scope:literal) => {
        concat!(
            "UPDATE buildings SET name = $1, address = $2, floors = $3, building_use = $4 \
             WHERE id = $5 AND grid_id = $6 AND grid_id ",
            $in_scope
        )
    };
}

// ---- Cases

pub const INSERT_CATEGORY: &str = "\
    INSERT INTO categories (code, parent_code, name, kind, department_id, overall_limit, step_limits, \
        closure, questions, public) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (code) DO NOTHING";
pub const ALL_CATEGORIES: &str = "\
    SELECT id, code, parent_code, name, kind, department_id, overall_limit, step_limits, closure, \
        questions, public, active FROM categories ORDER BY code";

pub const INSERT_CALENDAR_DAY: &str =
    "INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3) ON CONFLICT (day) DO NOTHING";
pub const CALENDAR_DAYS: &str = "SELECT day, kind, name FROM calendar_days ORDER BY day";
pub const UPSERT_CALENDAR_DAY: &str = "\
    INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3) \
    ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name";
pub const DELETE_CALENDAR_DAY: &str = "DELETE FROM calendar_days WHERE day = $1";
pub const UPDATE_CATEGORY: &str = "\
    UPDATE categories SET name = $1, department_id = $2, overall_limit = $3, step_limits = $4, \
        closure = $5, questions = $6, public = $7, active = $8 \
    WHERE id = $9";

macro_rules! case_columns {
    () => {
        "c.id, c.public_code, c.category_id, c.source, c.grid_id, c.lon, c.lat, c.address, c.description, \
         c.urgency, c.reporter_id, c.reporter_name, c.state, c.pending, c.level, c.resume_to, \
         c.department_id, c.reported_at, c.clock_start, c.step, c.step_started_at, c.extra_hours, \
         c.rework_count, c.closed_at, c.rating, c.rating_comment, c.answers, c.version, c.merged_into"
    };
}

pub const INSERT_CASE: &str = "\
    INSERT INTO cases (public_code, category_id, source, grid_id, lon, lat, address, description, urgency, \
        reporter_id, reporter_name, state, level, department_id, reported_at, clock_start, step, \
        step_started_at, answers, idempotency_key, request_hash) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'reported', 'grid', $12, $13, $13, \
        'acceptance', $13, $14, $15, $16) RETURNING id";
pub const CASE_COUNT: &str = "SELECT COUNT(*) FROM cases";
pub const CASE_BY_ID: &str = concat!("SELECT ", case_columns!(), " FROM cases c WHERE c.id = $1");
pub const CASE_BY_CODE: &str = concat!(
    "SELECT ",
    case_columns!(),
    " FROM cases c WHERE c.public_code = $1"
);
pub const CASE_BY_IDEMPOTENCY: &str =
    "SELECT id, request_hash FROM cases WHERE reporter_id = $1 AND idempotency_key = $2";
pub const UPDATE_CASE: &str = "\
    UPDATE cases SET state = $1, pending = $2, level = $3, resume_to = $4, department_id = $5, \
        clock_start = $6, step = $7, step_started_at = $8, extra_hours = $9, rework_count = $10, \
        closed_at = $11, rating = $12, rating_comment = $13, merged_into = $14, version = version + 1 \
    WHERE id = $15 AND version = $16";
pub const INSERT_CASE_EVENT: &str = "\
    INSERT INTO case_events (case_id, at, actor_id, action, from_state, to_state, visibility, note, department_id) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
pub const CASE_EVENTS: &str = "\
    SELECT at, actor_id, action, from_state, to_state, visibility, note, department_id, id \
    FROM case_events WHERE case_id = $1 ORDER BY id";
pub const START_PAUSE: &str = "INSERT INTO case_pauses (case_id, from_at, to_at, reason, review_on) VALUES ($1, $2, NULL, $3, $4)";
pub const END_PAUSE: &str =
    "UPDATE case_pauses SET to_at = $1 WHERE case_id = $2 AND to_at IS NULL";
pub const CASE_PAUSES: &str =
    "SELECT from_at, to_at FROM case_pauses WHERE case_id = $1 ORDER BY from_at";

/// Cases in the grids ($1) or of the department ($2) or reporter ($3), in
/// the states ($4, all when empty); newest first; $5 limit, $6 offset.
macro_rules! cases_visible {
    ($in_grids:literal, $in_states:literal, $states_empty:literal) => {
        concat!(
            "SELECT ",
            case_columns!(),
            " FROM cases c WHERE (c.grid_id ",
            $in_grids,
            " OR c.department_id = $2 OR c.reporter_id = $3) AND (",
            $states_empty,
            " OR c.state ",
            $in_states,
            ") ORDER BY c.reported_at DESC, c.id DESC LIMIT $5 OFFSET $6"
        )
    };
}

/// Open cases of a category ($1) inside a box ($2..$3 latitude, $4..$5
/// longitude), newest first; the app measures the exact distance.
pub const OPEN_CASES_IN_BOX: &str = concat!(
    "SELECT ",
    case_columns!(),
    " FROM cases c WHERE c.category_id = $1 \
     AND c.lat BETWEEN $2 AND $3 AND c.lon BETWEEN $4 AND $5 \
     AND c.state NOT IN ('closed', 'rated', 'voided', 'merged') ORDER BY c.reported_at DESC LIMIT 50"
);

/// Cases the sweeper watches: open and not on hold.
pub const SWEEPABLE_CASES: &str = concat!(
    "SELECT ",
    case_columns!(),
    " FROM cases c WHERE c.state NOT IN ('closed', 'rated', 'voided', 'merged', 'hung_up') ORDER BY c.id"
);

// ---- Photos.

pub const INSERT_PHOTO: &str = "\
    INSERT INTO photos (uploaded_by, uploaded_at, content_type, width, height, bytes, thumbnail) \
    VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
macro_rules! photo_columns {
    () => {
        "id, uploaded_by, uploaded_at, case_id, event_id, content_type, width, height"
    };
}
pub const PHOTO_META: &str = concat!("SELECT ", photo_columns!(), " FROM photos WHERE id = $1");
pub const PHOTO_BYTES: &str = "SELECT bytes, thumbnail FROM photos WHERE id = $1";
pub const CASE_PHOTOS: &str = concat!(
    "SELECT ",
    photo_columns!(),
    " FROM photos WHERE case_id = $1 ORDER BY id"
);
/// Uploads never attached to a report or action, older than $1.
pub const DELETE_ORPHAN_PHOTOS: &str =
    "DELETE FROM photos WHERE case_id IS NULL AND uploaded_at < $1";
/// Attaches an unattached photo of the uploader ($4) to a timeline entry.
pub const ATTACH_PHOTO: &str = "\
    UPDATE photos SET case_id = $1, event_id = $2 \
    WHERE id = $3 AND uploaded_by = $4 AND case_id IS NULL";

// ---- Notifications.

pub const INSERT_NOTIFICATION: &str = "\
    INSERT INTO notifications (user_id, case_id, kind, at, message) VALUES ($1, $2, $3, $4, $5)";
pub const NOTIFICATIONS: &str = "\
    SELECT id, user_id, case_id, kind, at, message, read_at FROM notifications \
    WHERE user_id = $1 AND ($2 = 0 OR read_at IS NULL) ORDER BY id DESC LIMIT $3";
pub const UNREAD_NOTIFICATIONS: &str =
    "SELECT COUNT(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL";
pub const MARK_NOTIFICATION_READ: &str = "\
    UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND id = $3 AND read_at IS NULL";
pub const MARK_ALL_NOTIFICATIONS_READ: &str =
    "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL";

// ---- Sweeper alerts and jobs.

pub const INSERT_ALERT: &str = "\
    INSERT INTO case_alerts (case_id, key, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
pub const INSERT_JOB: &str = "\
    INSERT INTO jobs (kind, unique_key, payload, run_at) VALUES ($1, $2, $3, $4) \
    ON CONFLICT (unique_key) DO NOTHING";
/// Takes for node $1 until $2 up to $5 due jobs of a kind ($3): queued,
/// due by $4, not leased by a live node. `$skip_locked` is `FOR UPDATE SKIP LOCKED` on
/// PostgreSQL (SQLite has one writer, so nothing to skip).
macro_rules! claim_jobs {
    ($skip_locked:literal) => {
        concat!(
            "UPDATE jobs SET locked_by = $1, locked_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM jobs WHERE kind = $3 AND state = 'queued' AND run_at <= $4 \
             AND (locked_until IS NULL OR locked_until < $4) ORDER BY run_at, id LIMIT $5 ",
            $skip_locked,
            ") RETURNING id, kind, payload, attempts, run_at"
        )
    };
}
/// Ends the lease of node $5 on job $4 with its new state, next run and error.
pub const FINISH_JOB: &str = "\
    UPDATE jobs SET state = $1, run_at = COALESCE($2, run_at), last_error = $3, locked_by = NULL, \
        locked_until = NULL \
    WHERE id = $4 AND locked_by = $5";
/// A recurring job (id $2, node $3) runs again at $1: its attempt count starts over.
pub const RESCHEDULE_JOB: &str = "\
    UPDATE jobs SET run_at = $1, attempts = 0, last_error = NULL, locked_by = NULL, locked_until = NULL \
    WHERE id = $2 AND locked_by = $3";
pub const JOB_COUNTS: &str =
    "SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state ORDER BY kind, state";

// ---- Webhooks.

pub const INSERT_WEBHOOK: &str = "\
    INSERT INTO webhooks (name, url, secret, events, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id";
pub const WEBHOOKS: &str =
    "SELECT id, name, url, secret, events, active, created_at FROM webhooks ORDER BY id";
pub const SET_WEBHOOK_ACTIVE: &str = "UPDATE webhooks SET active = $1 WHERE id = $2";
pub const INSERT_WEBHOOK_ATTEMPT: &str = "\
    INSERT INTO webhook_attempts (webhook_id, job_id, event, at, status, error, duration_ms) \
    VALUES ($1, $2, $3, $4, $5, $6, $7)";
pub const WEBHOOK_ATTEMPTS: &str = "\
    SELECT a.id, a.webhook_id, a.job_id, a.event, a.at, a.status, a.error, a.duration_ms, j.state, j.attempts \
    FROM webhook_attempts a JOIN jobs j ON j.id = a.job_id \
    WHERE a.webhook_id = $1 ORDER BY a.id DESC LIMIT $2";

// ---- Routing rules.

pub const ROUTING_RULES: &str = "\
    SELECT id, category, community_id, street_id, department_id FROM routing_rules \
    ORDER BY category, id";
pub const INSERT_ROUTING_RULE: &str = "\
    INSERT INTO routing_rules (category, community_id, street_id, department_id) \
    VALUES ($1, $2, $3, $4) RETURNING id";
pub const DELETE_ROUTING_RULE: &str = "DELETE FROM routing_rules WHERE id = $1";

// ---- API keys.

pub const INSERT_API_KEY: &str = "\
    INSERT INTO api_keys (name, key_hash, prefix, user_id, created_at) VALUES ($1, $2, $3, $4, $5) \
    RETURNING id";
macro_rules! api_key_columns {
    () => {
        "id, name, prefix, user_id, created_at, revoked_at"
    };
}
pub const API_KEYS: &str = concat!("SELECT ", api_key_columns!(), " FROM api_keys ORDER BY id");
pub const API_KEY_BY_HASH: &str = concat!(
    "SELECT ",
    api_key_columns!(),
    " FROM api_keys WHERE key_hash = $1"
);
pub const REVOKE_API_KEY: &str =
    "UPDATE api_keys SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL";

/// Cases of the categories in $1, reported in [$2, $3], in the states $4
/// (all when empty), newest first; $5 limit, $6 offset (Open311 lists).
macro_rules! cases_for_open311 {
    ($in_categories:literal, $in_states:literal, $states_empty:literal) => {
        concat!(
            "SELECT ",
            case_columns!(),
            " FROM cases c WHERE c.category_id ",
            $in_categories,
            " AND c.reported_at >= $2 AND c.reported_at <= $3 AND (",
            $states_empty,
            " OR c.state ",
            $in_states,
            ") ORDER BY c.reported_at DESC, c.id DESC LIMIT $5 OFFSET $6"
        )
    };
}

/// Public timeline entries of public cases, at or after $1 and at or before
/// $2, oldest first, at most $3 (the Open311 update feed).
pub const PUBLIC_UPDATES: &str = "\
    SELECT e.id, c.public_code, e.at, e.to_state, e.note \
    FROM case_events e JOIN cases c ON c.id = e.case_id \
    JOIN categories k ON k.id = c.category_id \
    WHERE e.at >= $1 AND e.at <= $2 AND k.public = $3 AND e.visibility = 'public' \
    ORDER BY e.at, e.id LIMIT $4";

pub const CLIENT_UPDATE: &str =
    "SELECT event_id FROM open311_updates WHERE api_key_id = $1 AND update_id = $2";
pub const INSERT_CLIENT_UPDATE: &str = "\
    INSERT INTO open311_updates (api_key_id, update_id, case_id, event_id) VALUES ($1, $2, $3, $4)";
