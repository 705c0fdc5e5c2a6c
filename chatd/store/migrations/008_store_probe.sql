-- One row that chatd rewrites to check that the store takes writes (at start, and while the disk is full).
CREATE TABLE store_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at REAL NOT NULL
);
