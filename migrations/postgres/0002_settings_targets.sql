-- Per-project cache settings and publish targets. Secret columns hold sealed values
-- (`v1.<key id>.<base64>`), never plaintext.
CREATE TABLE cache_settings (
    project_id        UUID PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    redis_type        TEXT NOT NULL,
    redis_url         TEXT,
    redis_token       TEXT,
    redis_password    TEXT,
    redis_master_name TEXT,
    redis_enabled     BOOLEAN NOT NULL,
    cache_mode        TEXT NOT NULL,
    cache_ttl_data    BIGINT NOT NULL,
    cache_ttl_count   BIGINT NOT NULL,
    cache_ttl_page    BIGINT NOT NULL,
    cache_ttl_jitter  BIGINT NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);

CREATE TABLE publish_targets (
    id         UUID PRIMARY KEY,
    project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    enabled    BOOLEAN NOT NULL,
    path       TEXT,
    url        TEXT,
    token      TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX publish_targets_name ON publish_targets (project_id, name);
