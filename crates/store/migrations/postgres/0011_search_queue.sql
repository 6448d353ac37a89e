-- SQLite queues search documents and indexes them once per transaction
-- (its migration 0011). PostgreSQL's GIN index already gathers new entries
-- in a pending list (fastupdate) and needs nothing here; this file keeps
-- the two backends' migrations numbered alike.
SELECT 1;
