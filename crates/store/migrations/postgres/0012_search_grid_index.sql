-- Nothing reads search documents by grid alone: a search narrows by grid
-- inside the GIN index (the "zgrid" token) and rechecks the grid of each
-- match. With this index the planner also AND-ed a bitmap of every
-- document of the grid (125,000 in bench/search) into a one-grid search,
-- doubling its time, and every document paid for it at insert.
DROP INDEX search_docs_grid;
