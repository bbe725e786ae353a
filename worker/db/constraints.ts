/**
 * D1 reports a broken UNIQUE or PRIMARY KEY constraint only in its error's message (SQLite's
 * "UNIQUE constraint failed: tenants.slug", wrapped as "D1_ERROR: …"; older SQLite said "PRIMARY KEY must
 * be unique"). This is the one place that reads that text; callers get a boolean to branch on.
 */
const DUPLICATE_KEY = /\b(UNIQUE constraint failed|PRIMARY KEY must be unique)\b/;

/** True when a write failed because a row with the same unique key already exists (a race lost, a taken name). */
export function isDuplicateKey(error: unknown): boolean {
  const message = error instanceof Error ? `${error.message} ${String(error.cause ?? "")}` : String(error);
  return DUPLICATE_KEY.test(message);
}
