-- Only pending operations are looked up by due time, project order or key; done ones stay
-- as the record of each job's cache step. Partial indexes keep those lookups, and marking an
-- operation done, to the pending few instead of every operation ever written.
DROP INDEX cache_outbox_due;
CREATE INDEX cache_outbox_due ON cache_outbox (next_attempt_at) WHERE state = 'pending';
DROP INDEX cache_outbox_project;
CREATE INDEX cache_outbox_pending ON cache_outbox (project_id, release_number, seq) WHERE state = 'pending';
DROP INDEX cache_outbox_key;
CREATE INDEX cache_outbox_key ON cache_outbox (project_id, cache_key) WHERE state = 'pending';

-- A cache step is the job's that wrote it: a retry or a drift repair adds operations to an
-- existing release and reports its own, not the release's history. Operations written before
-- this go to the job that made their release. The job keeps its count, and the rest is
-- counted over its operations not done yet: clients poll it while thousands drain.
ALTER TABLE cache_outbox ADD COLUMN job_id BLOB;
UPDATE cache_outbox SET job_id = (SELECT r.job_id FROM releases r WHERE r.id = cache_outbox.release_id);
ALTER TABLE publish_jobs ADD COLUMN cache_ops INTEGER NOT NULL DEFAULT 0;
UPDATE publish_jobs SET cache_ops = (SELECT COUNT(*) FROM cache_outbox o WHERE o.job_id = publish_jobs.id);
DROP INDEX cache_outbox_step;
CREATE INDEX cache_outbox_job ON cache_outbox (job_id);
-- Retention drops the applied operations of the releases it drops.
CREATE INDEX cache_outbox_release ON cache_outbox (release_id);
CREATE INDEX cache_outbox_open ON cache_outbox (job_id, state, attempts, last_error_kind) WHERE state <> 'done';
