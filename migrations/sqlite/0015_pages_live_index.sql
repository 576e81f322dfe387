-- A full publish lists a project's live pages with their draft versions. Without this index
-- SQLite reads every page row to find `version` and `deleted_at` behind the ~20 KB layout
-- (overflow pages): ~100 ms for 10,000 pages; with it, the list comes from the index alone.
CREATE INDEX pages_live ON pages (project_id, deleted_at, created_at, id, version);
