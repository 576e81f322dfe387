-- Per-project cache settings and publish targets. Secret columns hold sealed values
-- (`v1.<key id>.<base64>`), never plaintext.
CREATE TABLE cache_settings (
    project_id        BLOB PRIMARY KEY NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    redis_type        TEXT NOT NULL,
    redis_url         TEXT,
    redis_token       TEXT,
    redis_password    TEXT,
    redis_master_name TEXT,
    redis_enabled     INTEGER NOT NULL,
    cache_mode        TEXT NOT NULL,
    cache_ttl_data    INTEGER NOT NULL,
    cache_ttl_count   INTEGER NOT NULL,
    cache_ttl_page    INTEGER NOT NULL,
    cache_ttl_jitter  INTEGER NOT NULL,
    updated_at        TEXT NOT NULL
);

CREATE TABLE publish_targets (
    id         BLOB PRIMARY KEY NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    path       TEXT,
    url        TEXT,
    token      TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX publish_targets_name ON publish_targets (project_id, name);
