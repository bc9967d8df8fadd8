-- Listing and search at scale (tens of thousands of models).
--
-- One index per sort order and direction over the listed models, with exactly the ORDER BY
-- terms listing.rs writes (unknown values last, then the slug), so a page is read in order
-- and the walk stops after it instead of sorting every match.
CREATE INDEX models_order_default ON models (is_featured DESC, generation_count DESC, (release_date IS NULL), release_date DESC, slug)
    WHERE is_active = TRUE AND status <> 'deprecated';
CREATE INDEX models_order_name_asc ON models (display_name, slug)
    WHERE is_active = TRUE AND status <> 'deprecated';
CREATE INDEX models_order_name_desc ON models (display_name DESC, slug)
    WHERE is_active = TRUE AND status <> 'deprecated';
CREATE INDEX models_order_newest_asc ON models ((release_date IS NULL), release_date, slug)
    WHERE is_active = TRUE AND status <> 'deprecated';
CREATE INDEX models_order_newest_desc ON models ((release_date IS NULL), release_date DESC, slug)
    WHERE is_active = TRUE AND status <> 'deprecated';
CREATE INDEX models_order_price_asc ON models ((price_prompt_per_m_micros IS NULL), price_prompt_per_m_micros, slug)
    WHERE is_active = TRUE AND status <> 'deprecated';
CREATE INDEX models_order_price_desc ON models ((price_prompt_per_m_micros IS NULL), price_prompt_per_m_micros DESC, slug)
    WHERE is_active = TRUE AND status <> 'deprecated';
CREATE INDEX models_order_context_asc ON models ((context_length IS NULL), context_length, slug)
    WHERE is_active = TRUE AND status <> 'deprecated';
CREATE INDEX models_order_context_desc ON models ((context_length IS NULL), context_length DESC, slug)
    WHERE is_active = TRUE AND status <> 'deprecated';
CREATE INDEX models_order_popularity_asc ON models (generation_count, is_featured, (downloads IS NULL), downloads, slug)
    WHERE is_active = TRUE AND status <> 'deprecated';
CREATE INDEX models_order_popularity_desc ON models (generation_count DESC, is_featured DESC, (downloads IS NULL), downloads DESC, slug)
    WHERE is_active = TRUE AND status <> 'deprecated';

-- Superseded by the partial indexes above and below. models_listing_idx (is_active, status,
-- display_name) also led SQLite 3.46 to read every listed model and sort them rather than
-- walk an order's index, since it "constrains" is_active; the others only slow writes.
DROP INDEX models_listing_idx;
DROP INDEX models_is_active_idx;
DROP INDEX models_status_idx;
DROP INDEX models_price_idx;
DROP INDEX models_context_idx;
DROP INDEX models_release_idx;
DROP INDEX models_popularity_idx;

-- Every filter's column in one narrow index (the listed condition's too, or SQLite would not
-- read it alone), so counting a filtered listing up to the count's cap reads this index
-- instead of whole rows.
CREATE INDEX models_filter ON models (category_id, is_free, price_prompt_per_m_micros, context_length,
    provider, cap_text_generation, cap_chat_completion, cap_code_generation, cap_translation,
    cap_summarization, cap_image_generation, cap_image_analysis, cap_embedding, is_active, status)
    WHERE is_active = TRUE AND status <> 'deprecated';

-- Search relevance: an exact id or name first, then names and ids starting with the query.
-- These are the normalised forms listing.rs compares, so those candidates are index lookups.
CREATE INDEX models_search_slug_key ON models (replace(replace(replace(lower(slug), '/', ' '), '-', ' '), '.', ' '))
    WHERE is_active = TRUE AND status <> 'deprecated';
CREATE INDEX models_search_model_id_key ON models (replace(replace(replace(lower(provider_model_id), '/', ' '), '-', ' '), '.', ' '))
    WHERE is_active = TRUE AND status <> 'deprecated';
CREATE INDEX models_search_name_key ON models (replace(replace(lower(display_name), '-', ' '), '.', ' '))
    WHERE is_active = TRUE AND status <> 'deprecated';

-- Prefix indexes for search as you type: one- to three-character prefixes (`5`, `ai`, `gpt`)
-- are read from their own index instead of merging every matching term.
DROP TABLE models_fts;
CREATE VIRTUAL TABLE models_fts USING fts5(search_text, content='models', content_rowid='rowid', tokenize='unicode61', prefix='1 2 3');
INSERT INTO models_fts (models_fts) VALUES ('rebuild');

-- Statistics for the planner (syncs refresh them too).
ANALYZE;
