-- Scheduled publishes and unpublishes. A due `pending` row is claimed by one process with a
-- conditional UPDATE in the same transaction that inserts its publish job, so a schedule runs
-- exactly once however many processes share the database.
CREATE TABLE publish_schedules (
    id           BLOB PRIMARY KEY NOT NULL,
    project_id   BLOB NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    run_at       TEXT NOT NULL,
    request      TEXT NOT NULL,
    state        TEXT NOT NULL,
    job_id       BLOB,
    late_by_secs INTEGER,
    error        TEXT,
    created_by   BLOB,
    created_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE INDEX publish_schedules_due ON publish_schedules (state, run_at);
CREATE INDEX publish_schedules_project ON publish_schedules (project_id, run_at, id);
