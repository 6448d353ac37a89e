-- Keys of Open311 clients (civic apps, 12345 integrations). Found by the
-- SHA-256 of the key, never the key itself; each files cases as its own
-- user, which cannot sign in.
CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    key_hash   BLOB NOT NULL UNIQUE,
    prefix     TEXT NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;
