-- FTS5 writes its pending terms out as a new index segment at every
-- statement that touches the index (each statement is a savepoint), so
-- indexing documents one statement at a time makes a segment per
-- document and spends most of a bulk import merging them. Documents are
-- queued instead, and the writer indexes the queue in one statement just
-- before each COMMIT (see `sqlite::SEARCH_FLUSH`): still in the same
-- transaction as their records, with one segment per transaction.
CREATE TABLE search_queue (doc_id INTEGER PRIMARY KEY) STRICT;

-- Documents written before this migration are indexed already.
DROP TRIGGER search_docs_ai;
CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_queue (doc_id) VALUES (new.id);
END;

-- A queued document is not in the index yet: only the queue forgets it.
DROP TRIGGER search_docs_ad;
CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN
    DELETE FROM search_fts WHERE rowid = old.id
        AND NOT EXISTS (SELECT 1 FROM search_queue WHERE doc_id = old.id);
    DELETE FROM search_queue WHERE doc_id = old.id;
END;

DROP TRIGGER search_docs_au;
CREATE TRIGGER search_docs_au AFTER UPDATE OF tokens, grid_id ON search_docs BEGIN
    DELETE FROM search_fts WHERE rowid = old.id
        AND NOT EXISTS (SELECT 1 FROM search_queue WHERE doc_id = old.id);
    INSERT OR IGNORE INTO search_queue (doc_id) VALUES (new.id);
END;
