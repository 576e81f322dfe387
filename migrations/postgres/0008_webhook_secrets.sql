-- Secrets that sign a project's incoming publish webhooks (sealed). A rotated secret stays
-- valid until `expires_at`, so senders can switch over.
CREATE TABLE webhook_secrets (
    id         UUID PRIMARY KEY,
    project_id UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    secret     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ
);
CREATE INDEX webhook_secrets_project ON webhook_secrets (project_id);
