-- Whether a compiled page is its project's homepage (the homepage has its own cache key).
ALTER TABLE page_blobs ADD COLUMN is_homepage INTEGER NOT NULL DEFAULT 0;
UPDATE page_blobs SET is_homepage = 1 WHERE json_extract(body, '$.isHomepage') = 1;

-- Cache operations of releases, written in the transaction that records the release and
-- applied by a background worker: never on a publish's success path, never lost.
CREATE TABLE cache_outbox (
    id              BLOB PRIMARY KEY NOT NULL,
    project_id      BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    release_id      BLOB NOT NULL,
    release_number  INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    cache_key       TEXT NOT NULL,
    op              TEXT NOT NULL,
    content_hash    TEXT,
    version         INTEGER,
    published_at    TEXT,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error_kind TEXT,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    done_at         TEXT
);
CREATE INDEX cache_outbox_due ON cache_outbox (state, next_attempt_at);
CREATE INDEX cache_outbox_project ON cache_outbox (project_id, state, release_number, seq);
CREATE INDEX cache_outbox_release ON cache_outbox (release_id);
CREATE INDEX cache_outbox_key ON cache_outbox (project_id, cache_key, state);
