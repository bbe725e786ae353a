/** `postgres/query`: one parameterised statement, its rows as JSON (up to a limit). */
import { defineOperator, NonRetriableError } from "@updraft/plugin-sdk";
import { z } from "zod";
import { withDatabase } from "../database.ts";

export const Param = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** Rows are answered in the result, whose whole size the protocol bounds (1 MiB). */
const MAX_RESULT_CHARS = 900_000;

export const query = defineOperator({
  name: "query",
  kind: "action",
  description:
    "Runs one statement with `$1, $2, …` bound to `params` (never spliced into the SQL) and returns up to " +
    "`max_rows` rows (default 1000) as objects, with `truncated` when there were more. Read-only by intent: " +
    "use `execute` for changes that must happen together.",
  input: z.strictObject({
    sql: z.string().min(1).max(100_000),
    params: z.array(Param).max(1_000).default([]),
    max_rows: z.number().int().min(1).max(10_000).default(1_000),
  }),
  output: z.strictObject({
    rows: z.array(z.record(z.string(), z.unknown())),
    row_count: z.number().int(),
    truncated: z.boolean(),
    columns: z.array(z.string()),
  }),
  timeout: "60s",
  async run(ctx) {
    const { sql: text, params, max_rows } = ctx.input;
    return withDatabase(ctx.connection, ctx.env, ctx.signal, async (sql) => {
      const rows: Record<string, unknown>[] = [];
      let columns: string[] = [];
      let truncated = false;
      // A cursor reads in batches, so a query that would return millions of rows stops at the limit.
      for await (const batch of sql.unsafe(text, params).cursor(Math.min(max_rows + 1, 500))) {
        if (columns.length === 0 && batch[0]) columns = Object.keys(batch[0]);
        for (const row of batch) {
          if (rows.length === max_rows) {
            truncated = true;
            break;
          }
          rows.push({ ...row });
        }
        if (truncated) break;
      }
      const json = JSON.stringify(rows, (_key, value: unknown) =>
        typeof value === "bigint" ? value.toString() : value,
      );
      if (json.length > MAX_RESULT_CHARS)
        throw new NonRetriableError(
          `the ${rows.length} rows are larger than ${MAX_RESULT_CHARS} characters: select fewer columns or lower max_rows`,
        );
      ctx.log("info", `${rows.length} row(s)${truncated ? ` (more than ${max_rows}: truncated)` : ""}`);
      return { rows: JSON.parse(json), row_count: rows.length, truncated, columns };
    });
  },
});
