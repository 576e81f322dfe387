-- A release is partial when some of the targets it was written to failed it.
ALTER TABLE releases ADD COLUMN status TEXT NOT NULL DEFAULT 'complete';

-- What edgepub last wrote to a target that cannot say what it holds (a push edge).
CREATE TABLE target_pages (
    target_id    BLOB NOT NULL REFERENCES publish_targets (id) ON DELETE CASCADE,
    page_id      TEXT NOT NULL,
    tenant_slug  TEXT NOT NULL,
    slug         TEXT NOT NULL,
    version      INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    PRIMARY KEY (target_id, page_id)
);
