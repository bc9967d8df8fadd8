-- PostgreSQL's part of migration 5 (the rest, for both databases, is
-- 0005_catalog_index_in_memory.sql): the tsvector column and its GIN index.
DROP INDEX models_search_idx;
ALTER TABLE models DROP COLUMN search_vector;
