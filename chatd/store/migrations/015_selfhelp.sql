-- selfhelp@: what the bot keeps is the member's own; it goes with the member's row (ON DELETE CASCADE).
-- A member's open check-in (one at a time): the option chosen for each item answered so far.
CREATE TABLE selfhelp_open (
    member_id INTEGER PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
    instrument TEXT NOT NULL,
    answers TEXT NOT NULL,  -- JSON list of option indexes
    paused INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
-- Completed check-ins: the score and its band, for !history and !export.
CREATE TABLE selfhelp_results (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    instrument TEXT NOT NULL,
    version INTEGER NOT NULL,
    answers TEXT NOT NULL,
    score INTEGER NOT NULL,
    band_min INTEGER NOT NULL,
    band_max INTEGER NOT NULL,
    completed_at REAL NOT NULL
);
CREATE INDEX selfhelp_results_member ON selfhelp_results (member_id, instrument, completed_at);
-- Private journal entries: read by the member only (an entry that raised a risk alert is inside that alert).
CREATE TABLE journal_entries (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,  -- the member's own numbering: 1, 2, … (a deleted number is not reused while later ones exist)
    text TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (member_id, number)
);
-- When the member was told who may read their journal (before their first entry, once).
CREATE TABLE journal_told (
    member_id INTEGER PRIMARY KEY REFERENCES members(id) ON DELETE CASCADE,
    at REAL NOT NULL
);
-- Goals: the member's words, a check-in pace (0: none) and when the next check-in is due.
CREATE TABLE selfhelp_goals (
    id INTEGER PRIMARY KEY,
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    text TEXT NOT NULL,
    every_days INTEGER NOT NULL DEFAULT 0,
    next_at REAL,
    created_at REAL NOT NULL,
    UNIQUE (member_id, number)
);
CREATE INDEX selfhelp_goals_due ON selfhelp_goals (next_at);
-- Progress the member recorded on a goal (!done N): when.
CREATE TABLE selfhelp_progress (
    goal_id INTEGER NOT NULL REFERENCES selfhelp_goals(id) ON DELETE CASCADE,
    at REAL NOT NULL
);
CREATE INDEX selfhelp_progress_goal ON selfhelp_progress (goal_id, at);
-- Courses a member enrolled in, and the next lesson they get when they ask for it (from 0).
CREATE TABLE selfhelp_courses (
    member_id INTEGER NOT NULL REFERENCES members(id) ON DELETE CASCADE,
    course TEXT NOT NULL,
    next_lesson INTEGER NOT NULL,
    enrolled_at REAL NOT NULL,
    PRIMARY KEY (member_id, course)
);
