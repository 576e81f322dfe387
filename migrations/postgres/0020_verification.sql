-- Continuous verification: a project's drift-check schedule and its latest result. A due row
-- is claimed by one process with a conditional UPDATE on `runs`, so a pass runs once however
-- many processes share the database.
CREATE TABLE project_verification (
    project_id    UUID PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    interval_secs BIGINT NOT NULL DEFAULT 0,
    repair        TEXT NOT NULL DEFAULT 'off',
    next_run_at   TIMESTAMPTZ,
    runs          BIGINT NOT NULL DEFAULT 0,
    last_pass     BIGINT,
    last_run_at   TIMESTAMPTZ,
    last_duration_ms BIGINT,
    last_drifted  BOOLEAN,
    last_report   JSONB
);
CREATE INDEX project_verification_due ON project_verification (next_run_at);
