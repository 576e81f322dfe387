-- Control-plane state for the embedded default. Ids are UUID blobs, times RFC 3339 text,
-- JSON documents text. Keep in step with migrations/postgres/0001_init.sql.
CREATE TABLE projects (
    id               BLOB PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    slug             TEXT NOT NULL UNIQUE,
    description      TEXT,
    tenant_slug      TEXT NOT NULL DEFAULT '_default',
    site_name        TEXT,
    site_description TEXT,
    favicon_url      TEXT,
    logo_url         TEXT,
    app_url          TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE TABLE pages (
    id          BLOB PRIMARY KEY NOT NULL,
    project_id  BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    title       TEXT,
    description TEXT,
    layout_data TEXT NOT NULL,
    seo_data    TEXT,
    is_public   INTEGER NOT NULL DEFAULT 1,
    is_homepage INTEGER NOT NULL DEFAULT 0,
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    deleted_at  TEXT
);
-- Slugs are unique among live pages only, so a deleted page frees its slug.
CREATE UNIQUE INDEX pages_live_slug ON pages (project_id, slug) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX pages_one_homepage ON pages (project_id) WHERE is_homepage = 1 AND deleted_at IS NULL;
CREATE INDEX pages_by_project ON pages (project_id, created_at);

CREATE TABLE page_versions (
    page_id     BLOB NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    title       TEXT,
    description TEXT,
    layout_data TEXT NOT NULL,
    seo_data    TEXT,
    is_public   INTEGER NOT NULL,
    is_homepage INTEGER NOT NULL,
    saved_at    TEXT NOT NULL,
    PRIMARY KEY (page_id, version)
);

CREATE TABLE api_tokens (
    id           BLOB PRIMARY KEY NOT NULL,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    project_id   BLOB REFERENCES projects (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
