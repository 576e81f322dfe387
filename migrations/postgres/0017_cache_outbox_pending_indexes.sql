-- Only pending operations are looked up by due time, project order or key; done ones stay
-- as the record of each release's cache step. Partial indexes keep those lookups, and
-- marking an operation done, to the pending few instead of every operation ever written.
DROP INDEX cache_outbox_due;
CREATE INDEX cache_outbox_due ON cache_outbox (next_attempt_at) WHERE state = 'pending';
DROP INDEX cache_outbox_project;
CREATE INDEX cache_outbox_pending ON cache_outbox (project_id, release_number, seq) WHERE state = 'pending';
DROP INDEX cache_outbox_key;
CREATE INDEX cache_outbox_key ON cache_outbox (project_id, cache_key) WHERE state = 'pending';

-- A release's cache step is polled while its operations drain: the count of its operations
-- is kept with the release, and the rest is counted over the operations not done yet.
ALTER TABLE releases ADD COLUMN cache_ops BIGINT NOT NULL DEFAULT 0;
UPDATE releases SET cache_ops = (SELECT COUNT(*) FROM cache_outbox o WHERE o.release_id = releases.id);
DROP INDEX cache_outbox_step;
CREATE INDEX cache_outbox_release ON cache_outbox (release_id);
CREATE INDEX cache_outbox_open ON cache_outbox (release_id, state, attempts, last_error_kind) WHERE state <> 'done';
