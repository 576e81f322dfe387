-- Whether a compiled page is its project's homepage (the homepage has its own cache key).
ALTER TABLE page_blobs ADD COLUMN is_homepage BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE page_blobs SET is_homepage = TRUE WHERE (body::jsonb ->> 'isHomepage') = 'true';

-- Cache operations of releases, written in the transaction that records the release and
-- applied by a background worker: never on a publish's success path, never lost.
CREATE TABLE cache_outbox (
    id              UUID PRIMARY KEY,
    project_id      UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    release_id      UUID NOT NULL,
    release_number  BIGINT NOT NULL,
    seq             BIGINT NOT NULL,
    cache_key       TEXT NOT NULL,
    op              TEXT NOT NULL,
    content_hash    TEXT,
    version         BIGINT,
    published_at    TEXT,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error_kind TEXT,
    last_error      TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    done_at         TIMESTAMPTZ
);
CREATE INDEX cache_outbox_due ON cache_outbox (state, next_attempt_at);
CREATE INDEX cache_outbox_project ON cache_outbox (project_id, state, release_number, seq);
CREATE INDEX cache_outbox_release ON cache_outbox (release_id);
CREATE INDEX cache_outbox_key ON cache_outbox (project_id, cache_key, state);
