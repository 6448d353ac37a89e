-- Which department a new case goes to, by category (code or prefix) and
-- place (a community, a street, or anywhere); the most specific rule wins.
CREATE TABLE routing_rules (
    id            INTEGER PRIMARY KEY,
    category      TEXT NOT NULL,
    community_id  INTEGER REFERENCES communities (id),
    street_id     INTEGER REFERENCES streets (id),
    department_id INTEGER NOT NULL REFERENCES departments (id),
    CHECK (community_id IS NULL OR street_id IS NULL)
) STRICT;
CREATE UNIQUE INDEX routing_rules_once
    ON routing_rules (category, COALESCE(community_id, 0), COALESCE(street_id, 0));
