-- Preview links: a page's compiled draft behind an unguessable token, until `expires_at`.
-- Only the token's SHA-256 is kept. `storage` says where the compiled page lives: `database`
-- (in `body`) or `redis` (the project's cache, under a key with the same expiry); the row is
-- the source of truth for expiry and revocation either way.
CREATE TABLE previews (
    id           UUID PRIMARY KEY,
    project_id   UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    page_id      UUID NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
    page_version BIGINT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    storage      TEXT NOT NULL,
    body         TEXT,
    created_by   UUID,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX previews_by_project ON previews (project_id, created_at);
CREATE INDEX previews_by_expiry ON previews (expires_at);
