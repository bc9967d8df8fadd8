-- What the playground was asked to do; rows from before this migration name it in their
-- parameters when it was chosen, and made images when they have any.
ALTER TABLE generations ADD COLUMN mode TEXT NOT NULL DEFAULT 'chat';
UPDATE generations SET mode = CASE
    WHEN (parameters::json ->> 'mode') IS NOT NULL THEN parameters::json ->> 'mode'
    WHEN EXISTS (SELECT 1 FROM generation_assets a WHERE a.generation_id = generations.id)
        THEN 'image'
    ELSE 'chat' END;

-- Full-text search over what a generation was asked (its prompt and its last message) and
-- what it answered, the first 50,000 characters of each (a tsvector must stay under 1 MB).
-- An index on the expression, not a stored column: the text is not kept twice. The history
-- query repeats this expression exactly (generations/history.rs, PG_SEARCH_VECTOR).
CREATE INDEX generations_search_idx ON generations USING GIN (to_tsvector('simple'::regconfig,
    left(prompt, 50000) || ' ' || left(COALESCE(messages::json -> -1 ->> 'content', ''), 50000)
    || ' ' || left(output_content, 50000)));
