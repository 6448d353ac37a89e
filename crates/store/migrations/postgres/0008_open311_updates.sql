-- Updates Open311 clients posted (mySociety's POST servicerequestupdates),
-- by the client's own update id, so that a retried post adds nothing.
CREATE TABLE open311_updates (
    api_key_id BIGINT NOT NULL REFERENCES api_keys (id),
    update_id  TEXT NOT NULL,
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    event_id   BIGINT NOT NULL REFERENCES case_events (id),
    PRIMARY KEY (api_key_id, update_id)
);
