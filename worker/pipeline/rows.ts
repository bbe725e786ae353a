/**
 * Multi-row statements for the transition's rows. A statement's commit costs about as much as its
 * rows' (TOOLCHAIN.md: ~15 µs a statement, ~1 µs a row), and a wide fan-out writes hundreds of rows
 * per transition, so rows of one kind go in as few statements as the bound-parameter limit allows.
 */

/** Durable Object SQL binds at most 100 parameters per statement. */
export const MAX_PARAMS = 100;

/** `${head} VALUES (…), (…) ${tail}` over the rows (all of one width), in as few statements as fit. */
export function insertRows(
  sql: SqlStorage,
  head: string,
  rows: readonly SqlStorageValue[][],
  tail = "",
): void {
  const width = rows[0]?.length ?? 0;
  if (width === 0) return;
  const perStatement = Math.floor(MAX_PARAMS / width);
  const tuple = `(${new Array(width).fill("?").join(", ")})`;
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement);
    sql.exec(`${head} VALUES ${new Array(chunk.length).fill(tuple).join(", ")} ${tail}`, ...chunk.flat());
  }
}

/**
 * `${head} (…)` with `fixed` parameters first and up to MAX_PARAMS − fixed of `values` in the list,
 * as many statements as needed: `DELETE FROM timers WHERE run = ? AND id IN (…)`.
 */
export function inList(
  sql: SqlStorage,
  head: string,
  fixed: readonly SqlStorageValue[],
  values: readonly SqlStorageValue[],
): void {
  const perStatement = MAX_PARAMS - fixed.length;
  for (let i = 0; i < values.length; i += perStatement) {
    const chunk = values.slice(i, i + perStatement);
    sql.exec(`${head} (${new Array(chunk.length).fill("?").join(", ")})`, ...fixed, ...chunk);
  }
}
