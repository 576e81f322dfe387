-- Datasources, publish jobs (durable, leased), releases and the compiled pages they refer to.
CREATE TABLE datasources (
    id             UUID PRIMARY KEY,
    project_id     UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    type           TEXT NOT NULL,
    name           TEXT NOT NULL,
    url            TEXT,
    anon_key       TEXT,
    secret         TEXT,
    secret_env_var TEXT,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX datasources_name ON datasources (project_id, name);

-- Compiled pages (unstamped contract JSON), stored once per content hash.
CREATE TABLE page_blobs (
    project_id   UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    content_hash TEXT NOT NULL,
    body         TEXT NOT NULL,
    PRIMARY KEY (project_id, content_hash)
);

CREATE TABLE releases (
    id         UUID PRIMARY KEY,
    project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number     BIGINT NOT NULL,
    job_id     UUID NOT NULL,
    created_by UUID,
    created_at TIMESTAMPTZ NOT NULL,
    targets    JSONB NOT NULL,
    UNIQUE (project_id, number)
);

-- The full published set of a release: which version of which page, by content hash.
CREATE TABLE release_pages (
    release_id   UUID NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    page_id      TEXT NOT NULL,
    slug         TEXT NOT NULL,
    version      BIGINT NOT NULL,
    content_hash TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (release_id, page_id)
);
CREATE INDEX release_pages_page ON release_pages (page_id);

CREATE TABLE publish_jobs (
    id               UUID PRIMARY KEY,
    project_id       UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind             TEXT NOT NULL,
    request          JSONB NOT NULL,
    idempotency_key  TEXT,
    request_hash     TEXT NOT NULL,
    created_by       UUID,
    state            TEXT NOT NULL,
    progress         JSONB NOT NULL,
    result           JSONB,
    release_id       UUID,
    attempts         BIGINT NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ
);
CREATE INDEX publish_jobs_pending ON publish_jobs (state, created_at);
CREATE INDEX publish_jobs_project ON publish_jobs (project_id, created_at);
CREATE UNIQUE INDEX publish_jobs_idempotency ON publish_jobs (project_id, idempotency_key);

-- One publish per project at a time, across processes: whoever holds the row runs the
-- project's jobs until the lease expires unrenewed.
CREATE TABLE project_leases (
    project_id UUID PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
