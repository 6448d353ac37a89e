-- SQLite drops its index on search_docs.grid_id here: its searches are
-- narrowed by grid inside the full-text index. PostgreSQL keeps it: for
-- scopes of many grids the planner uses it well; for a few grids, listed
-- as tokens in the tsquery, the search rechecks the grid as `grid_id + 0`
-- so that the index is not AND-ed in (`search::SEARCH_POSTGRES_LISTED`).
SELECT 1;
