-- The plugin marketplace (issue 13): a plugin name belongs to the tenant that first published it
-- (NULL: first-party, published by the platform from its own service bindings), and each version is
-- immutable: its manifest is kept as published, with a digest to tell a re-publication of the same
-- manifest (accepted, nothing changes) from a different one (409).
CREATE TABLE plugins (
  name TEXT PRIMARY KEY,
  publisher_tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
  visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  -- JSON array of strings, searched with json_each.
  categories TEXT NOT NULL,
  latest_version TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX plugins_publisher ON plugins (publisher_tenant_id);

CREATE TABLE plugin_versions (
  plugin TEXT NOT NULL REFERENCES plugins (name) ON DELETE CASCADE,
  version TEXT NOT NULL,
  manifest TEXT NOT NULL,
  digest TEXT NOT NULL,
  -- Where its operators are called: a base URL (published by URL) or a service binding (first-party).
  base_url TEXT,
  binding TEXT,
  published_at TEXT NOT NULL,
  published_by TEXT NOT NULL,
  PRIMARY KEY (plugin, version),
  CHECK ((base_url IS NULL) <> (binding IS NULL))
);
