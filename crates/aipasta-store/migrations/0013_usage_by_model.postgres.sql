-- Usage by account, day and model, summed over sources: what the usage charts, the stats
-- and the dashboard read. A busy account's year is some 4,400 of these rows instead of
-- 22,000 rows of `usage_days` (which keeps the source too). Every figure is in the primary
-- key's index, so an account's days are read from it alone, as migration 12 made the
-- covering index of `usage_days` (an account's rows are spread over the whole table).
CREATE TABLE usage_model_days (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day BIGINT NOT NULL, -- days since the Unix epoch, UTC
    model_id TEXT NOT NULL,
    generations BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cost_nanos BIGINT NOT NULL DEFAULT 0,
    total_duration_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day, model_id)
        INCLUDE (generations, errors, prompt_tokens, completion_tokens, cost_nanos,
                 total_duration_ms)
);
