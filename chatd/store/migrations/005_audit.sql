-- One hash-chained audit log for moderator actions, verdict overrides, role changes and vault
-- unseals. Entries are only appended; `chatd audit verify` detects edits and deletions.
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    realm TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_by_action ON audit (action, seq);
DROP TABLE vault_audit;  -- its entries now live in the hash-chained audit log
