-- Who changed what, when. No foreign keys: entries outlive the projects and tokens they name.
-- `summary` holds field names and non-secret values only (see src/audit).
CREATE TABLE audit_log (
    id          UUID PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    UUID,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    project_id  UUID,
    subject_id  TEXT,
    summary     JSONB NOT NULL,
    request_id  TEXT,
    client_addr TEXT
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_project ON audit_log (project_id, at, id);
