-- The Wall Guides' welcomes, each sent once per member whatever the device or restart:
-- place '' for the welcome at the first login, a room's key for the welcome at the first post there.
CREATE TABLE welcomed (
    member_id INTEGER NOT NULL REFERENCES members(id),
    place TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (member_id, place)
);
-- Members already here before the welcome were welcomed in person; who posted in a room has been there.
INSERT INTO welcomed (member_id, place, at) SELECT id, '', joined_at FROM members;
INSERT OR IGNORE INTO welcomed (member_id, place, at)
    SELECT sender_id, conversation, MIN(created_at) FROM messages
    WHERE conversation LIKE 'room:%' AND sender_id IN (SELECT id FROM members) GROUP BY sender_id, conversation;
