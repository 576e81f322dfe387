-- A release's cache step (job status, event streams) is counted from this index alone, without
-- visiting each operation's row: clients poll it while thousands of operations drain, and a
-- row visit per operation per poll cost a drain more than the drain itself. It also serves
-- every lookup by release, so the plain release index goes.
CREATE INDEX cache_outbox_step ON cache_outbox (release_id, state, attempts, last_error_kind);
DROP INDEX cache_outbox_release;
