-- Full-text search over models.search_text (SQLite: an FTS5 index kept in step by triggers).
CREATE VIRTUAL TABLE models_fts USING fts5(search_text, content='models', content_rowid='rowid', tokenize='unicode61');
INSERT INTO models_fts (rowid, search_text) SELECT rowid, search_text FROM models;
CREATE TRIGGER models_fts_after_insert AFTER INSERT ON models BEGIN
    INSERT INTO models_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
CREATE TRIGGER models_fts_after_delete AFTER DELETE ON models BEGIN
    INSERT INTO models_fts (models_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;
CREATE TRIGGER models_fts_after_update AFTER UPDATE OF search_text ON models BEGIN
    INSERT INTO models_fts (models_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO models_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;
