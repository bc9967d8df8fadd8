-- History, usage and favorites (the dashboard). Portable part; the search index and the mode
-- back-fill differ by dialect (0010_history.{sqlite,postgres}.sql, applied before this file).

-- History lists: an account's generations in any of four orders, each with the id as the
-- tie-breaker, so a cursor (sort value, id) resumes exactly where a page ended at any depth.
DROP INDEX generations_user_created_idx;
CREATE INDEX generations_user_time_idx ON generations (user_id, created_at, id);
CREATE INDEX generations_user_cost_idx ON generations (user_id, cost_nanos, id);
CREATE INDEX generations_user_tokens_idx ON generations (user_id, total_tokens, id);
CREATE INDEX generations_user_duration_idx ON generations (user_id, (COALESCE(duration_ms, 0)), id);
CREATE INDEX generations_user_model_time_idx ON generations (user_id, model_id, created_at, id);

-- Usage by day, account, model and source: what the dashboard's charts and the monthly
-- allowance read. Deleting history leaves it alone (usage is never refunded), and deleting a
-- model keeps what was spent on it: model_id is kept as text, without a foreign key.
CREATE TABLE usage_days (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day BIGINT NOT NULL, -- days since the Unix epoch, UTC
    model_id TEXT NOT NULL,
    source TEXT NOT NULL,
    generations BIGINT NOT NULL DEFAULT 0,
    errors BIGINT NOT NULL DEFAULT 0,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cost_nanos BIGINT NOT NULL DEFAULT 0,
    total_duration_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, day, model_id, source)
);
CREATE INDEX usage_days_model_idx ON usage_days (model_id, day);
CREATE INDEX usage_days_day_idx ON usage_days (day);
-- Back-filled from the generations themselves (none had been deleted: history could not be).
INSERT INTO usage_days (user_id, day, model_id, source, generations, errors, prompt_tokens,
    completion_tokens, cost_nanos, total_duration_ms)
SELECT user_id, created_at / 86400000, model_id, source, COUNT(*),
    SUM(CASE WHEN status IN ('error', 'timeout', 'interrupted') THEN 1 ELSE 0 END),
    SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_nanos), SUM(COALESCE(duration_ms, 0))
FROM generations
WHERE user_id IS NOT NULL AND model_id IS NOT NULL AND status <> 'pending'
GROUP BY user_id, created_at / 86400000, model_id, source;
DROP TABLE usage_daily;

-- Favorites in the order their owner chose.
ALTER TABLE favorites ADD COLUMN position BIGINT NOT NULL DEFAULT 0;
UPDATE favorites SET position = (
    SELECT COUNT(*) FROM favorites earlier
    WHERE earlier.user_id = favorites.user_id
      AND (earlier.created_at < favorites.created_at
           OR (earlier.created_at = favorites.created_at AND earlier.model_id < favorites.model_id))
);
CREATE INDEX favorites_user_position_idx ON favorites (user_id, position);

-- The account's own usage alert thresholds, in percent of the monthly limit (JSON array).
ALTER TABLE users ADD COLUMN usage_alerts TEXT NOT NULL DEFAULT '[80,100]';
