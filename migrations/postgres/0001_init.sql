-- Control-plane state on Postgres. Keep in step with migrations/sqlite/0001_init.sql.
CREATE TABLE projects (
    id               UUID PRIMARY KEY,
    name             TEXT NOT NULL,
    slug             TEXT NOT NULL CONSTRAINT projects_slug_key UNIQUE,
    description      TEXT,
    tenant_slug      TEXT NOT NULL DEFAULT '_default',
    site_name        TEXT,
    site_description TEXT,
    favicon_url      TEXT,
    logo_url         TEXT,
    app_url          TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE pages (
    id          UUID PRIMARY KEY,
    project_id  UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    title       TEXT,
    description TEXT,
    layout_data JSONB NOT NULL,
    seo_data    JSONB,
    is_public   BOOLEAN NOT NULL DEFAULT TRUE,
    is_homepage BOOLEAN NOT NULL DEFAULT FALSE,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    deleted_at  TIMESTAMPTZ
);
-- Slugs are unique among live pages only, so a deleted page frees its slug.
CREATE UNIQUE INDEX pages_live_slug ON pages (project_id, slug) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX pages_one_homepage ON pages (project_id) WHERE is_homepage AND deleted_at IS NULL;
CREATE INDEX pages_by_project ON pages (project_id, created_at);

CREATE TABLE page_versions (
    page_id     UUID NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    title       TEXT,
    description TEXT,
    layout_data JSONB NOT NULL,
    seo_data    JSONB,
    is_public   BOOLEAN NOT NULL,
    is_homepage BOOLEAN NOT NULL,
    saved_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (page_id, version)
);

CREATE TABLE api_tokens (
    id           UUID PRIMARY KEY,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL CONSTRAINT api_tokens_hash_key UNIQUE,
    prefix       TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    project_id   UUID REFERENCES projects (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
