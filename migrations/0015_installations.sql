-- A tenant's installations of marketplace plugins (issue 13): a pinned version, a name that `uses`
-- names (the plugin's own by default; two Slack workspaces are two names), and the connection
-- settings: plain fields as JSON, fields the connection schema marks `writeOnly` encrypted under the
-- tenant's data key, with the names of the secret fields kept beside them so answers can mask them
-- without decrypting anything.
CREATE TABLE installations (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  plugin TEXT NOT NULL,
  version TEXT NOT NULL,
  config TEXT NOT NULL,
  secrets TEXT,
  secret_fields TEXT NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT NOT NULL,
  UNIQUE (tenant_id, name),
  FOREIGN KEY (plugin, version) REFERENCES plugin_versions (plugin, version)
);
CREATE INDEX installations_plugin ON installations (plugin, version);
