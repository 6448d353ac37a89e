-- A duplicate merged into the case it repeats points at it.
ALTER TABLE cases ADD COLUMN merged_into BIGINT REFERENCES cases (id);
