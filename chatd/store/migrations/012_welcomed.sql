-- The Wall Guides' welcomes, each sent once per member whatever the device or restart:
-- place '' for the welcome at the first login, a room's key for the welcome at the first post there.
CREATE TABLE welcomed (
    member_id INTEGER NOT NULL REFERENCES members(id),
    place TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (member_id, place)
);
