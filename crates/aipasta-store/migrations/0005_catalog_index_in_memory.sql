-- Listing and search moved into an in-memory index (src/catalog/index.rs), which answers them in
-- microseconds on both databases. The full-text index and the sort, filter and search-key
-- indexes that served them in SQL only slow every write to models now.
DROP INDEX models_order_default;
DROP INDEX models_order_name_asc;
DROP INDEX models_order_name_desc;
DROP INDEX models_order_newest_asc;
DROP INDEX models_order_newest_desc;
DROP INDEX models_order_price_asc;
DROP INDEX models_order_price_desc;
DROP INDEX models_order_context_asc;
DROP INDEX models_order_context_desc;
DROP INDEX models_order_popularity_asc;
DROP INDEX models_order_popularity_desc;
DROP INDEX models_filter;
DROP INDEX models_search_slug_key;
DROP INDEX models_search_model_id_key;
DROP INDEX models_search_name_key;
-- The index's freshness check reads the latest change to the catalog (catalog/index.rs).
CREATE INDEX models_updated_at_idx ON models (updated_at);
