-- When a member last got crisis resources, and the severity behind them: for a day after, the member's
-- words to the bots reach a person (chatd/core/crisis.py), on every instance and after a restart.
CREATE TABLE crisis_followups (
    member_id BIGINT PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
    sent_at DOUBLE PRECISION NOT NULL,
    severity INTEGER NOT NULL
);
