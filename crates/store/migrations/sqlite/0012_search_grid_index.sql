-- Nothing reads search documents by grid alone: a search narrows by grid
-- inside the full-text index (the "zgrid" token, or a recheck of each
-- match for wide scopes). The index on grid_id only cost every document
-- an insert.
DROP INDEX search_docs_grid;
