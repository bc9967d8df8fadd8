-- Full-text search over models.search_text (PostgreSQL: a generated tsvector with a GIN index).
ALTER TABLE models ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED;
CREATE INDEX models_search_idx ON models USING GIN (search_vector);
