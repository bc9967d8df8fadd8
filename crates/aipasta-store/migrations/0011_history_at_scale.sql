
-- How many models an account used, ever: one step per model along this index (a loose index
-- scan, generations/usage.rs) instead of reading every rollup row of the account's.
CREATE INDEX usage_days_user_model_idx ON usage_days (user_id, model_id);
