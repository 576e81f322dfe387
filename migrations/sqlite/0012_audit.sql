-- Who changed what, when. No foreign keys: entries outlive the projects and tokens they name.
-- `summary` holds field names and non-secret values only (see src/audit).
CREATE TABLE audit_log (
    id          BLOB PRIMARY KEY NOT NULL,
    at          TEXT NOT NULL,
    actor_id    BLOB,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    project_id  BLOB,
    subject_id  TEXT,
    summary     TEXT NOT NULL,
    request_id  TEXT,
    client_addr TEXT
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_project ON audit_log (project_id, at, id);
