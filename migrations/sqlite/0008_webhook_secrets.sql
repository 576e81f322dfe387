-- Secrets that sign a project's incoming publish webhooks (sealed). A rotated secret stays
-- valid until `expires_at`, so senders can switch over.
CREATE TABLE webhook_secrets (
    id         BLOB PRIMARY KEY NOT NULL,
    project_id BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    secret     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT
);
CREATE INDEX webhook_secrets_project ON webhook_secrets (project_id);
