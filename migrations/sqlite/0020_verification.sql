-- Continuous verification: a project's drift-check schedule and its latest result. A due row
-- is claimed by one process with a conditional UPDATE on `runs`, so a pass runs once however
-- many processes share the database.
CREATE TABLE project_verification (
    project_id    BLOB PRIMARY KEY NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    interval_secs INTEGER NOT NULL DEFAULT 0,
    repair        TEXT NOT NULL DEFAULT 'off',
    next_run_at   TEXT,
    runs          INTEGER NOT NULL DEFAULT 0,
    last_pass     INTEGER,
    last_run_at   TEXT,
    last_duration_ms INTEGER,
    last_drifted  INTEGER,
    last_report   TEXT
);
CREATE INDEX project_verification_due ON project_verification (next_run_at);
