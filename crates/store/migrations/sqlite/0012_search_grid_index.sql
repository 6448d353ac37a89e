-- Nothing reads search documents by grid alone: a search narrows by grid
-- inside the full-text index (the "zgrid" token) and rechecks the grid of
-- each match. The index on grid_id only cost every document an insert.
DROP INDEX search_docs_grid;
