-- Preview links: a page's compiled draft behind an unguessable token, until `expires_at`.
-- Only the token's SHA-256 is kept. `storage` says where the compiled page lives: `database`
-- (in `body`) or `redis` (the project's cache, under a key with the same expiry); the row is
-- the source of truth for expiry and revocation either way.
CREATE TABLE previews (
    id           BLOB PRIMARY KEY NOT NULL,
    project_id   BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    page_id      BLOB NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    page_version INTEGER NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    storage      TEXT NOT NULL,
    body         TEXT,
    created_by   BLOB,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX previews_by_project ON previews (project_id, created_at);
CREATE INDEX previews_by_expiry ON previews (expires_at);
