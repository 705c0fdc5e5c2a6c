-- Rooms: topic rooms (from config, kept here for their subject and salt) and private groups.
CREATE TABLE rooms (
    realm TEXT NOT NULL,
    local TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('topic', 'group')),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner_id INTEGER REFERENCES members(id),
    subject TEXT NOT NULL DEFAULT '',
    subject_nick TEXT NOT NULL DEFAULT '',
    salt BLOB NOT NULL,          -- keys occupant ids (XEP-0421) of this room
    created_at REAL NOT NULL,
    PRIMARY KEY (realm, local)
);

-- Members of private groups (the owner included).
CREATE TABLE room_members (
    realm TEXT NOT NULL,
    local TEXT NOT NULL,
    member_id INTEGER NOT NULL REFERENCES members(id),
    added_at REAL NOT NULL,
    PRIMARY KEY (realm, local, member_id),
    FOREIGN KEY (realm, local) REFERENCES rooms(realm, local) ON DELETE CASCADE
);

-- Room messages live in `messages` (conversation 'room:<realm>:<local>'); MAM filters by time.
CREATE INDEX messages_by_conversation_time ON messages (conversation, created_at);
