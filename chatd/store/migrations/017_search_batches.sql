-- The full-text index is written in batches (chatd.store.search.INDEX_NEW, with an archive commit every few
-- hundred rows, and before every search), no longer by a trigger per archived row: FTS5 costs far less per
-- text when it takes many at once. search_progress.indexed_to: every text up to this archive sequence number is
-- in the index (if it belongs there); later texts are read from the archive when the next batch is written.
CREATE TABLE search_progress (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_to INTEGER NOT NULL
);
INSERT INTO search_progress (id, indexed_to) VALUES (1, COALESCE((SELECT MAX(seq) FROM messages), 0));

DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;

-- approvals, edits, removals and retractions of texts already in a batch; a text not yet in one is read as it
-- then is
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, verdict, conversation ON messages
WHEN old.seq <= (SELECT indexed_to FROM search_progress)
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) SELECT 'delete', old.seq, old.body
    WHERE old.body <> '' AND substr(old.conversation, 1, 6) <> 'watch:'
        AND old.verdict NOT IN ('hold', 'rejected', 'removed', 'retracted');
    INSERT INTO messages_fts (rowid, body) SELECT new.seq, new.body
    WHERE new.body <> '' AND substr(new.conversation, 1, 6) <> 'watch:'
        AND new.verdict NOT IN ('hold', 'rejected', 'removed', 'retracted');
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.seq <= (SELECT indexed_to FROM search_progress) AND old.body <> ''
    AND substr(old.conversation, 1, 6) <> 'watch:' AND old.verdict NOT IN ('hold', 'rejected', 'removed', 'retracted')
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.seq, old.body);
END;
