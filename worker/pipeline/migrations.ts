/**
 * The PipelineDO's SQLite schema as numbered, forward-only steps. The applied step count lives in the
 * `meta` table; the constructor applies what is missing under blockConcurrencyWhile.
 */
const STEPS: readonly string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE versions (version INTEGER PRIMARY KEY, spec TEXT NOT NULL);
   CREATE TABLE runs (
     id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, status TEXT NOT NULL, version INTEGER NOT NULL,
     trigger_kind TEXT NOT NULL, state TEXT NOT NULL,
     created_at INTEGER NOT NULL, started_at INTEGER, ended_at INTEGER);
   CREATE INDEX runs_by_status ON runs (status, seq);
   CREATE TABLE blobs (ref TEXT PRIMARY KEY, run TEXT NOT NULL, body TEXT NOT NULL);
   CREATE INDEX blobs_by_run ON blobs (run);
   CREATE TABLE logs (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL, key TEXT NOT NULL, attempt INTEGER NOT NULL,
     at INTEGER NOT NULL, level TEXT NOT NULL, message TEXT NOT NULL);
   CREATE INDEX logs_by_task ON logs (run, key, seq);
   CREATE TABLE timers (run TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL, ref TEXT NOT NULL,
     PRIMARY KEY (run, id));
   CREATE INDEX timers_by_at ON timers (at);
   CREATE TABLE callbacks (
     token TEXT PRIMARY KEY, run TEXT NOT NULL, key TEXT NOT NULL, attempt INTEGER NOT NULL,
     dispatch INTEGER NOT NULL);`,
  // Runs whose summary D1 has not seen yet (write-behind; see summaries.ts).
  `CREATE TABLE summary_outbox (run TEXT PRIMARY KEY, n INTEGER NOT NULL);`,
  // The clock (schedule.ts): the latest version's schedule, and one run per logical date.
  `CREATE TABLE schedule_state (
     id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, cron TEXT NOT NULL,
     timezone TEXT NOT NULL, catchup INTEGER NOT NULL, paused INTEGER NOT NULL, cursor INTEGER NOT NULL);
   CREATE TABLE schedule_runs (
     logical_date INTEGER PRIMARY KEY, interval_start INTEGER NOT NULL, interval_end INTEGER NOT NULL,
     run TEXT NOT NULL, source TEXT NOT NULL);`,
  // A result drops its dispatch's token by (run, key, dispatch): without this, a scan per result.
  `CREATE INDEX callbacks_by_dispatch ON callbacks (run, key, dispatch);`,
  // Run lists show the logical date without parsing every run's state.
  `ALTER TABLE runs ADD COLUMN logical_date TEXT;
   UPDATE runs SET logical_date = json_extract(state, '$.logical_date');`,
  // A timer whose handler threw backs off by its failed attempts (timers.ts retryLater).
  `ALTER TABLE timers ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;`,
  // A person's action and its audit entry commit together; the entry reaches D1 behind (audit.ts).
  // Idempotency-Key answers of POST …/runs, kept 24 hours.
  `CREATE TABLE audit_outbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
     target TEXT NOT NULL, ip TEXT);
   CREATE TABLE idempotency_keys (
     key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, answer TEXT NOT NULL, at INTEGER NOT NULL);
   CREATE INDEX idempotency_keys_by_at ON idempotency_keys (at);`,
  // Webhook ingress (worker/hooks): the hooks as the API last synced them, the delivery ledger, and
  // dedup keys within their window.
  `CREATE TABLE hooks (hook_id TEXT PRIMARY KEY, trigger_id TEXT NOT NULL, config TEXT NOT NULL);
   CREATE TABLE deliveries (
     id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, trigger_id TEXT NOT NULL, received_at INTEGER NOT NULL,
     verdict TEXT NOT NULL, status INTEGER NOT NULL, detail TEXT, headers TEXT NOT NULL, query TEXT NOT NULL,
     body BLOB NOT NULL, run_id TEXT, duplicate_of TEXT, replayed_from TEXT, elapsed_ms REAL NOT NULL);
   CREATE INDEX deliveries_by_time ON deliveries (received_at, seq);
   CREATE TABLE dedup_keys (
     trigger_id TEXT NOT NULL, key TEXT NOT NULL, delivery TEXT NOT NULL, run TEXT NOT NULL,
     expires_at INTEGER NOT NULL, PRIMARY KEY (trigger_id, key));
   CREATE INDEX dedup_keys_by_expiry ON dedup_keys (expires_at);`,
  // Every timer has a kind (timers.ts dispatches by it). A delivery says whether it was verified (only
  // those can be replayed) and which version it was for (replay's "original").
  `ALTER TABLE timers ADD COLUMN kind TEXT NOT NULL DEFAULT 'run';
   UPDATE timers SET kind = 'schedule' WHERE run = '~schedule';
   ALTER TABLE deliveries ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE deliveries ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
   UPDATE deliveries SET verified = 1 WHERE verdict NOT IN ('unverified', 'too_large', 'paused');
   CREATE INDEX deliveries_by_run ON deliveries (run_id) WHERE run_id IS NOT NULL;
   CREATE INDEX deliveries_by_verdict ON deliveries (verdict, seq);`,
  // The ledger's size in bytes (ledger.ts): per delivery, and a running count; a cut body is marked.
  `ALTER TABLE deliveries ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE deliveries ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;
   UPDATE deliveries SET bytes = length(body) + length(headers) + length(query);
   CREATE TABLE ledger_usage (id INTEGER PRIMARY KEY CHECK (id = 1), bytes INTEGER NOT NULL);
   INSERT INTO ledger_usage (id, bytes) SELECT 1, COALESCE(SUM(bytes), 0) FROM deliveries;`,
  // Deliveries anyone could send, or that started nothing, are expendable: their own smaller byte cap,
  // evicted first (ledger.ts). Bytes are counted again as UTF-8 (length() of TEXT counts characters).
  `ALTER TABLE deliveries ADD COLUMN expendable INTEGER NOT NULL DEFAULT 0;
   UPDATE deliveries SET expendable = 1
     WHERE verified = 0 OR verdict IN ('unverified', 'duplicate', 'filtered', 'invalid', 'too_large');
   CREATE INDEX deliveries_expendable ON deliveries (received_at, seq) WHERE expendable = 1;
   UPDATE deliveries SET bytes = length(body) + length(CAST(headers AS BLOB)) + length(CAST(query AS BLOB));
   ALTER TABLE ledger_usage ADD COLUMN expendable_bytes INTEGER NOT NULL DEFAULT 0;
   UPDATE ledger_usage SET bytes = (SELECT COALESCE(SUM(bytes), 0) FROM deliveries),
     expendable_bytes = (SELECT COALESCE(SUM(bytes), 0) FROM deliveries WHERE expendable = 1);`,
];

/**
 * Empties every table but the schema's own bookkeeping, after the pipeline was deleted: the schema
 * stays, so a late plugin answer or callback finds nothing instead of failing. Tables are read from
 * sqlite_master, so a table added by a later step is emptied too.
 */
export function emptyDataTables(storage: DurableObjectStorage): void {
  const tables = dataTables(storage.sql);
  storage.transactionSync(() => {
    for (const table of tables) storage.sql.exec(`DELETE FROM "${table}"`);
  });
}

/** The object's own tables: every one but the schema's bookkeeping, SQLite's and the platform's. */
export function dataTables(sql: SqlStorage): string[] {
  return sql
    .exec<{ name: string }>(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'schema_version'
         AND substr(name, 1, 7) != 'sqlite_' AND substr(name, 1, 4) != '_cf_'`,
    )
    .toArray()
    .map((row) => row.name);
}

/** Applies the steps this object's storage has not seen yet, each in its own transaction. */
export function migrate(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER)");
  const row = sql.exec<{ n: number }>("SELECT n FROM schema_version WHERE id = 1").toArray()[0];
  const applied = row?.n ?? 0;
  for (let step = applied; step < STEPS.length; step++) {
    storage.transactionSync(() => {
      sql.exec(STEPS[step] ?? "");
      sql.exec(
        "INSERT INTO schema_version (id, n) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET n = excluded.n",
        step + 1,
      );
    });
  }
}
