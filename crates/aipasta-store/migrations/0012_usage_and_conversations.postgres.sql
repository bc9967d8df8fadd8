-- An account's rollups over a range of days, with every figure in the index: the usage charts
-- and stats read them without visiting the table. The rows of one account are spread over the
-- whole table (a day's rows of every account are written together), so a year of a busy
-- account read through the primary key visited some 6,000 table pages (35 ms of a 40 ms
-- stats request at a million generations). SQLite reads them in 8 ms and needs nothing new.
CREATE INDEX usage_days_user_day_covering_idx ON usage_days (user_id, day, model_id, source)
    INCLUDE (generations, errors, prompt_tokens, completion_tokens, cost_nanos,
             total_duration_ms);
