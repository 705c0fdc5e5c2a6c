-- Members who got the Wall Guides' welcome (sent once per member, whatever the device or restart).
CREATE TABLE welcomed (
    member_id INTEGER PRIMARY KEY REFERENCES members(id),
    at REAL NOT NULL
);
