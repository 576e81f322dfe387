-- A pass's drifted pages per target, beside its report, so `/metrics` reads a few numbers
-- per project instead of every stored report. NULL for passes recorded before (the report
-- is counted then).
ALTER TABLE project_verification ADD COLUMN last_counts JSONB;
