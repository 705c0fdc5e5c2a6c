-- Full-text search over what members saw ("!search" to wallguide@, the guides' "!search", XEP-0431 in room MAM).
-- An FTS5 index of messages.body (external content: the text is not stored twice), holding delivered texts only,
-- redacted where they were redacted: never originals, never held, rejected, removed or retracted texts, never
-- shadow-room lines. unicode61 with remove_diacritics 2: case and accents aside ("armee" finds "armée").
-- Triggers keep it in step with the archive's writes (the batch insert stays one commit), guides' approvals,
-- edits and removals, and retractions; marking messages sent (unsent) does not touch it.
CREATE VIRTUAL TABLE messages_fts USING fts5(
    body, content = 'messages', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.body <> '' AND substr(new.conversation, 1, 6) <> 'watch:'
    AND new.verdict NOT IN ('hold', 'rejected', 'removed', 'retracted')
BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.seq, new.body);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, verdict, conversation ON messages
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.seq, old.body
    WHERE old.body <> '' AND substr(old.conversation, 1, 6) <> 'watch:'
        AND old.verdict NOT IN ('hold', 'rejected', 'removed', 'retracted');
    INSERT INTO messages_fts (rowid, body) SELECT new.seq, new.body
    WHERE new.body <> '' AND substr(new.conversation, 1, 6) <> 'watch:'
        AND new.verdict NOT IN ('hold', 'rejected', 'removed', 'retracted');
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.body <> '' AND substr(old.conversation, 1, 6) <> 'watch:'
    AND old.verdict NOT IN ('hold', 'rejected', 'removed', 'retracted')
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.seq, old.body);
END;

-- what the archive holds already
INSERT INTO messages_fts (rowid, body) SELECT seq, body FROM messages
WHERE body <> '' AND substr(conversation, 1, 6) <> 'watch:' AND verdict NOT IN ('hold', 'rejected', 'removed', 'retracted');
