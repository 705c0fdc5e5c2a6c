-- Alerts keep what fired (space-separated "construct" or "construct:detail"; an alert without
-- signals keeps its kind), and the Wall Guides' answer to each alert: helpful or not.
ALTER TABLE queue ADD COLUMN signals TEXT NOT NULL DEFAULT '';

CREATE TABLE alert_feedback (
    entry_id INTEGER NOT NULL REFERENCES queue(id),
    guide TEXT NOT NULL,            -- the guide's pseudonym
    answer TEXT NOT NULL CHECK (answer IN ('helpful', 'not_helpful')),
    note TEXT NOT NULL DEFAULT '',
    at REAL NOT NULL,
    PRIMARY KEY (entry_id, guide)   -- one answer per guide and alert
);

-- earlier alerts keep their kind, the first part of their summary ("risk.suicide_active · calm-otter")
UPDATE queue SET signals = substr(summary, 1, instr(summary, ' · ') - 1)
WHERE kind = 'alert' AND instr(summary, ' · ') > 0;
