-- A duplicate merged into the case it repeats points at it.
ALTER TABLE cases ADD COLUMN merged_into INTEGER REFERENCES cases (id);
