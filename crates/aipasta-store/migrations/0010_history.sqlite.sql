-- What the playground was asked to do; rows from before this migration name it in their
-- parameters when it was chosen, and made images when they have any.
ALTER TABLE generations ADD COLUMN mode TEXT NOT NULL DEFAULT 'chat';
UPDATE generations SET mode = CASE
    WHEN json_valid(parameters) AND json_extract(parameters, '$.mode') IS NOT NULL
        THEN json_extract(parameters, '$.mode')
    WHEN EXISTS (SELECT 1 FROM generation_assets a WHERE a.generation_id = generations.id)
        THEN 'image'
    ELSE 'chat' END;

-- Full-text search over what a generation was asked (its prompt and its last message) and
-- what it answered, the first 50,000 characters of each. Contentless: the text lives in
-- generations only, and the index's rowid is the generation's rowid (VACUUM keeps rowids on
-- the SQLite this binary bundles; a test pins it).
CREATE VIRTUAL TABLE generations_fts USING fts5(
    input, output, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2'
);
INSERT INTO generations_fts (rowid, input, output)
SELECT rowid,
    SUBSTR(prompt, 1, 50000) || ' ' || SUBSTR(COALESCE(CASE WHEN json_valid(messages)
        THEN json_extract(messages, '$[#-1].content') END, ''), 1, 50000),
    SUBSTR(output_content, 1, 50000)
FROM generations;
CREATE TRIGGER generations_fts_insert AFTER INSERT ON generations BEGIN
    INSERT INTO generations_fts (rowid, input, output) VALUES (new.rowid,
        SUBSTR(new.prompt, 1, 50000) || ' ' || SUBSTR(COALESCE(CASE WHEN json_valid(new.messages)
            THEN json_extract(new.messages, '$[#-1].content') END, ''), 1, 50000),
        SUBSTR(new.output_content, 1, 50000));
END;
CREATE TRIGGER generations_fts_delete AFTER DELETE ON generations BEGIN
    DELETE FROM generations_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER generations_fts_update AFTER UPDATE OF prompt, messages, output_content ON generations
WHEN old.output_content IS NOT new.output_content OR old.prompt IS NOT new.prompt
    OR old.messages IS NOT new.messages
BEGIN
    DELETE FROM generations_fts WHERE rowid = old.rowid;
    INSERT INTO generations_fts (rowid, input, output) VALUES (new.rowid,
        SUBSTR(new.prompt, 1, 50000) || ' ' || SUBSTR(COALESCE(CASE WHEN json_valid(new.messages)
            THEN json_extract(new.messages, '$[#-1].content') END, ''), 1, 50000),
        SUBSTR(new.output_content, 1, 50000));
END;
