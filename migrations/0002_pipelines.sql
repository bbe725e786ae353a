-- Pipelines, their immutable versions and the trigger registry (hook id → pipeline).

CREATE TABLE pipelines (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  slug TEXT NOT NULL,
  name TEXT NOT NULL,
  paused INTEGER NOT NULL DEFAULT 0,
  latest_version INTEGER NOT NULL,
  schedule TEXT,                       -- JSON {cron, timezone, catchup} of the latest version, or NULL
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (tenant_id, slug)
);

CREATE TABLE pipeline_versions (
  pipeline_id TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  spec TEXT NOT NULL,                  -- canonical JSON of the validated spec
  source TEXT NOT NULL,                -- the document as the user wrote it (YAML comments survive)
  format TEXT NOT NULL CHECK (format IN ('yaml', 'json')),
  digest TEXT NOT NULL,                -- SHA-256 over spec and source: an identical PUT writes nothing
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  PRIMARY KEY (pipeline_id, version)
);

CREATE TABLE triggers (
  hook_id TEXT PRIMARY KEY,            -- opaque, unguessable; /hooks/{hook_id}
  tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  pipeline_id TEXT NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
  trigger_id TEXT NOT NULL,
  secret TEXT,                         -- generated signing secret (ciphertext) when the spec names none
  created_at TEXT NOT NULL,
  UNIQUE (pipeline_id, trigger_id)
);
