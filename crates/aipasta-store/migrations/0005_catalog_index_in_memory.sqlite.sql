-- SQLite's part of migration 5 (the rest, for both databases, is 0005_catalog_index_in_memory.sql):
-- the FTS5 full-text table and the triggers that kept it in step.
DROP TRIGGER models_fts_after_insert;
DROP TRIGGER models_fts_after_delete;
DROP TRIGGER models_fts_after_update;
DROP TABLE models_fts;
