-- The playground's recent runs (generations/runs.rs): an account's playground generations
-- outside conversations, newest first. Partial, so only those rows are indexed: the gateway's
-- writes never touch it, and an account with many API calls still reads only its runs.
CREATE INDEX generations_playground_runs_idx ON generations (user_id, created_at, id)
    WHERE source = 'playground' AND session_id IS NULL;
