-- Runs of a deleted pipeline still count towards the tenant's runs per rolling 24 hours: deleting a
-- pipeline removes its run summaries, and without this it would also reset the tenant's daily count.
CREATE TABLE retired_run_starts (
  tenant_id TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX retired_run_starts_by_tenant ON retired_run_starts (tenant_id, created_at);
