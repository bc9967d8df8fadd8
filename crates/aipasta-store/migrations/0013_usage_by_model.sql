-- Filled from the rollups by source (which the recorder keeps writing beside these).
INSERT INTO usage_model_days (user_id, day, model_id, generations, errors, prompt_tokens,
    completion_tokens, cost_nanos, total_duration_ms)
SELECT user_id, day, model_id, SUM(generations), SUM(errors), SUM(prompt_tokens),
    SUM(completion_tokens), SUM(cost_nanos), SUM(total_duration_ms)
FROM usage_days
GROUP BY user_id, day, model_id;
-- The models an account used (a loose index scan: one seek a model), now read from here.
CREATE INDEX usage_model_days_user_model_idx ON usage_model_days (user_id, model_id);
DROP INDEX usage_days_user_model_idx;
