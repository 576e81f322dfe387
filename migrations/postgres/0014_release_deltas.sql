-- Releases as deltas: a release keeps only the pages it changed (new content, version, slug or
-- publish time) and a tombstone (`removed`) for each page it took away, so recording one costs
-- what changed. A release's full set is, for every page, its newest row up to that release
-- unless that row is a tombstone. `current_pages` holds the newest release's full set.
ALTER TABLE release_pages ADD COLUMN removed BOOLEAN NOT NULL DEFAULT FALSE;

-- Existing releases are full snapshots: a page missing from a release that its predecessor
-- had was removed by it.
INSERT INTO release_pages (release_id, page_id, slug, version, content_hash, published_at, removed)
SELECT r.id, prev.page_id, prev.slug, prev.version, prev.content_hash, prev.published_at, TRUE
FROM releases r
JOIN releases pr ON pr.project_id = r.project_id AND pr.number = r.number - 1
JOIN release_pages prev ON prev.release_id = pr.id AND NOT prev.removed
WHERE NOT EXISTS (SELECT 1 FROM release_pages x WHERE x.release_id = r.id AND x.page_id = prev.page_id);

CREATE TABLE current_pages (
    project_id   UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    page_id      TEXT NOT NULL,
    slug         TEXT NOT NULL,
    version      BIGINT NOT NULL,
    content_hash TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (project_id, page_id)
);
INSERT INTO current_pages (project_id, page_id, slug, version, content_hash, published_at)
SELECT r.project_id, rp.page_id, rp.slug, rp.version, rp.content_hash, rp.published_at
FROM release_pages rp JOIN releases r ON r.id = rp.release_id
WHERE NOT rp.removed AND r.number = (SELECT MAX(number) FROM releases r2 WHERE r2.project_id = r.project_id);

-- Rows equal to the same page's row in the release before carry nothing.
DELETE FROM release_pages WHERE (release_id, page_id) IN (
    SELECT rp.release_id, rp.page_id FROM release_pages rp
    JOIN releases r ON r.id = rp.release_id
    JOIN releases pr ON pr.project_id = r.project_id AND pr.number = r.number - 1
    JOIN release_pages prev ON prev.release_id = pr.id AND prev.page_id = rp.page_id
    WHERE NOT rp.removed AND NOT prev.removed AND prev.slug = rp.slug AND prev.version = rp.version
      AND prev.content_hash = rp.content_hash AND prev.published_at = rp.published_at);
