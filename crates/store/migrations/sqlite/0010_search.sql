-- What search finds: one document per resident, household, business, case,
-- opinion and visit, with its grid (for scope), a birth date for residents
-- (minors are left out for roles that may not see them), what a result
-- shows (never an unmasked ID or phone number) and its tokens (segmented
-- Chinese, folded, with pinyin for names), kept by the same transaction
-- as the record.
CREATE TABLE search_docs (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    record_id  INTEGER NOT NULL,
    grid_id    INTEGER,
    born       TEXT,
    title      TEXT NOT NULL,
    detail     TEXT NOT NULL,
    tokens     TEXT NOT NULL,
    UNIQUE (kind, record_id)
) STRICT;
CREATE INDEX search_docs_grid ON search_docs (grid_id);

-- The full-text index holds each document's tokens and its grid as one
-- more token ("zgrid12"), so that a search scoped to a few grids is
-- answered by the index itself. Contentless (the tokens live above) and
-- without positions (detail = none): searches AND whole words and
-- prefixes, never phrases, and inserts are a third cheaper.
CREATE VIRTUAL TABLE search_fts USING fts5(
    tokens, content = '', contentless_delete = 1, detail = none,
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts (rowid, tokens)
    VALUES (new.id, new.tokens || ' zgrid' || coalesce(new.grid_id, 0));
END;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    DELETE FROM search_fts WHERE rowid = old.id;
END;
CREATE TRIGGER search_docs_au AFTER UPDATE OF tokens, grid_id ON search_docs BEGIN
    DELETE FROM search_fts WHERE rowid = old.id;
    INSERT INTO search_fts (rowid, tokens)
    VALUES (new.id, new.tokens || ' zgrid' || coalesce(new.grid_id, 0));
END;
