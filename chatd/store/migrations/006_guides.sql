-- The Wall Guides' side: the triage queue, mutes, the watchlist and private notes.
-- Alerts are queue entries now (kind 'alert'); the earlier alerts table goes.
DROP TABLE alerts;

CREATE TABLE queue (
    id INTEGER PRIMARY KEY,
    realm TEXT NOT NULL,
    kind TEXT NOT NULL,            -- alert, held, report, guide, watched
    severity INTEGER NOT NULL,
    conversation TEXT NOT NULL,
    summary TEXT NOT NULL,         -- kinds, pseudonyms and ids; never message text
    created_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'resolved', 'escalated')),
    claimed_by TEXT NOT NULL DEFAULT '',
    announced_at REAL NOT NULL DEFAULT 0
);
CREATE INDEX queue_open ON queue (realm, status, severity DESC, created_at);

CREATE TABLE mutes (
    member_id INTEGER PRIMARY KEY REFERENCES members(id),
    until REAL NOT NULL,
    reason TEXT NOT NULL,
    muted_by TEXT NOT NULL
);

CREATE TABLE watchlist (
    member_id INTEGER PRIMARY KEY REFERENCES members(id),
    since REAL NOT NULL,
    reason TEXT NOT NULL,
    watched_by TEXT NOT NULL
);

CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id),
    at REAL NOT NULL,
    written_by TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX notes_by_member ON notes (member_id, at);
