-- A conversation's turns in order, within its account: the history's one row a conversation
-- (a turn is listed unless a later one exists), a conversation's latest turn and its list of
-- turns. It replaces the index on the session alone, which every one of these also filtered
-- by account and sorted.
DROP INDEX generations_session_idx;
CREATE INDEX generations_user_session_idx ON generations (user_id, session_id, created_at, id);
