-- Scheduled publishes and unpublishes. A due `pending` row is claimed by one process with a
-- conditional UPDATE in the same transaction that inserts its publish job, so a schedule runs
-- exactly once however many processes share the database.
CREATE TABLE publish_schedules (
    id           UUID PRIMARY KEY,
    project_id   UUID NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    run_at       TIMESTAMPTZ NOT NULL,
    request      JSONB NOT NULL,
    state        TEXT NOT NULL,
    job_id       UUID,
    late_by_secs BIGINT,
    error        TEXT,
    created_by   UUID,
    created_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX publish_schedules_due ON publish_schedules (state, run_at);
CREATE INDEX publish_schedules_project ON publish_schedules (project_id, run_at, id);
