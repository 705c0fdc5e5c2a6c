-- Members: one account belongs to exactly one realm, for good.
CREATE TABLE members (
    id INTEGER PRIMARY KEY,
    account TEXT NOT NULL UNIQUE,
    realm TEXT NOT NULL,
    pseudonym TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('member', 'wall_guide', 'senior_clinician', 'bot')),
    status TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    joined_at REAL NOT NULL,
    UNIQUE (realm, pseudonym)
);

CREATE TABLE blocks (
    blocker_id INTEGER NOT NULL REFERENCES members(id),
    blocked_id INTEGER NOT NULL REFERENCES members(id),
    created_at REAL NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);

-- The archive: a message is here before any recipient gets it.
CREATE TABLE messages (
    seq INTEGER PRIMARY KEY,
    stanza_id TEXT NOT NULL UNIQUE,
    conversation TEXT NOT NULL,
    sender_id INTEGER NOT NULL,
    recipient_id INTEGER,
    client_id TEXT,
    body TEXT,               -- what recipients got (redacted when redacted)
    original TEXT,           -- what the author wrote, when different; for moderators only
    verdict TEXT NOT NULL,
    findings TEXT NOT NULL DEFAULT '[]',
    created_at REAL NOT NULL
);
CREATE INDEX messages_by_conversation ON messages (conversation, seq);
