-- Usage by account, day and model, summed over sources: what the usage charts, the stats
-- and the dashboard read. A busy account's year is some 4,400 of these rows instead of
-- 22,000 rows of `usage_days` (which keeps the source too), and summing those in SQL took
-- most of a year's stats (15 ms of 19 at a million generations). Without a rowid, an
-- account's days are one range of the table itself.
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
) WITHOUT ROWID;
