-- Keys that have sealed secrets in this database: the key id and a value sealed with the key
-- (never the key), so a process can tell at start whether its keys open this database.
CREATE TABLE secret_keys (
    key_id      TEXT PRIMARY KEY,
    check_value TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
