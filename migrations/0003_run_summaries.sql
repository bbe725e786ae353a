-- Run summaries, written behind from the PipelineDOs in batches, for cross-pipeline listing.
-- The DO is the source of truth; a row here may lag it by a moment.
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  pipeline_id TEXT NOT NULL,           -- no FK: a summary may arrive after its pipeline was deleted
  pipeline_slug TEXT NOT NULL,
  status TEXT NOT NULL,
  trigger TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  started_at TEXT,
  ended_at TEXT,
  seq INTEGER NOT NULL                 -- the run's number within its pipeline
);
CREATE INDEX runs_by_tenant ON runs (tenant_id, created_at DESC, id);
CREATE INDEX runs_by_pipeline ON runs (pipeline_id, created_at DESC);
