-- Fixed-window counts of the marketplace actions that make the platform call a URL a tenant controls
-- (worker/marketplace/limits.ts): publishing a plugin (its manifest is fetched) and testing an
-- installation's connection (the plugin is called). In D1, so every isolate counts in the same window.
-- key names the action and whose it is ("publish:<tenant>", "test:<installation>", …); window_ends_at is
-- in ms since the epoch; a row whose window has ended starts over at the next call, and the cron sweeps it.
CREATE TABLE action_counts (
  key TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  window_ends_at INTEGER NOT NULL
);
CREATE INDEX action_counts_window_ends_at ON action_counts (window_ends_at);
