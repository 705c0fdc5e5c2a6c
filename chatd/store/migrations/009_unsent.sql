-- One-on-one messages archived but not yet confirmed as taken by the XMPP server: sent again
-- after a restart (see docs/faults.md). The partial index holds only the few unconfirmed rows.
ALTER TABLE messages ADD COLUMN unsent INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_unsent ON messages (seq) WHERE unsent = 1;
