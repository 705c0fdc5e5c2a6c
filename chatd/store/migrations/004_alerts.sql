-- Alerts raised by the moderation hook (risk findings and the like), for the Wall Guides' queue.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    realm TEXT NOT NULL,
    member_id INTEGER NOT NULL,
    conversation TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'resolved')),
    created_at REAL NOT NULL
);
CREATE INDEX alerts_open ON alerts (realm, status, severity DESC, created_at);
