-- Following topic rooms without joining them (chatd/follows.py). target: 'room:<id>' or 'tag:<id>' of the
-- member's realm; since: when the follow began (a room's messages count from then at the earliest).
CREATE TABLE follows (
    member_id INTEGER NOT NULL REFERENCES members(id),
    target TEXT NOT NULL,
    since REAL NOT NULL,
    PRIMARY KEY (member_id, target)
);

-- One digest schedule per follower. since: where the next digest's count window begins (the end of the
-- last digest's window); due_at: when it is due (NULL: pace off); waiting_id: the id of the last digest
-- while the member has not been seen since it was sent (no other is sent meanwhile: they never pile up).
CREATE TABLE followers (
    member_id INTEGER PRIMARY KEY REFERENCES members(id),
    pace TEXT NOT NULL CHECK (pace IN ('hourly', 'daily', 'off')),
    since REAL NOT NULL,
    due_at REAL,
    waiting_id TEXT
);
CREATE INDEX followers_due ON followers (due_at) WHERE due_at IS NOT NULL AND waiting_id IS NULL;
