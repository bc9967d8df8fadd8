-- History search reads newest first without sorting its matches. FTS5 streams a query's
-- matches in ascending rowid order and can only go backwards by loading them all, so the
-- index is keyed by the generation's rowid negated: ascending is newest recorded first, and a
-- page of 20 stops after 20 matches however common the words. The owner column holds one
-- token per account ('u' and the account id without its dashes), so a search intersects the
-- account's own documents inside FTS5 instead of joining every account's matches.
DROP TRIGGER generations_fts_insert;
DROP TRIGGER generations_fts_delete;
DROP TRIGGER generations_fts_update;
DROP TABLE generations_fts;
CREATE VIRTUAL TABLE generations_fts USING fts5(
    owner, input, output, content='', contentless_delete=1,
    tokenize='unicode61 remove_diacritics 2'
);
INSERT INTO generations_fts (rowid, owner, input, output)
SELECT -rowid, 'u' || replace(user_id, '-', ''),
    SUBSTR(prompt, 1, 50000) || ' ' || SUBSTR(COALESCE(CASE WHEN json_valid(messages)
        THEN json_extract(messages, '$[#-1].content') END, ''), 1, 50000),
    SUBSTR(output_content, 1, 50000)
FROM generations ORDER BY rowid DESC;
CREATE TRIGGER generations_fts_insert AFTER INSERT ON generations BEGIN
    INSERT INTO generations_fts (rowid, owner, input, output) VALUES (-new.rowid,
        'u' || replace(new.user_id, '-', ''),
        SUBSTR(new.prompt, 1, 50000) || ' ' || SUBSTR(COALESCE(CASE WHEN json_valid(new.messages)
            THEN json_extract(new.messages, '$[#-1].content') END, ''), 1, 50000),
        SUBSTR(new.output_content, 1, 50000));
END;
CREATE TRIGGER generations_fts_delete AFTER DELETE ON generations BEGIN
    DELETE FROM generations_fts WHERE rowid = -old.rowid;
END;
CREATE TRIGGER generations_fts_update AFTER UPDATE OF prompt, messages, output_content ON generations
WHEN old.output_content IS NOT new.output_content OR old.prompt IS NOT new.prompt
    OR old.messages IS NOT new.messages
BEGIN
    DELETE FROM generations_fts WHERE rowid = -old.rowid;
    INSERT INTO generations_fts (rowid, owner, input, output) VALUES (-new.rowid,
        'u' || replace(new.user_id, '-', ''),
        SUBSTR(new.prompt, 1, 50000) || ' ' || SUBSTR(COALESCE(CASE WHEN json_valid(new.messages)
            THEN json_extract(new.messages, '$[#-1].content') END, ''), 1, 50000),
        SUBSTR(new.output_content, 1, 50000));
END;
