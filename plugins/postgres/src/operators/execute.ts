/** `postgres/execute`: statements in one transaction — all of them, or none. */
import { defineOperator, NonRetriableError } from "@updraft/plugin-sdk";
import { z } from "zod";
import { withDatabase } from "../database.ts";
import { Param } from "./query.ts";

export const execute = defineOperator({
  name: "execute",
  kind: "action",
  description:
    "Runs `statements` (each `{sql, params}`) in one transaction and returns each one's command and affected " +
    "row count. If any fails, the transaction is rolled back — nothing was changed — and the task fails " +
    "naming the statement. Retries run the whole transaction again: make it idempotent (e.g. ON CONFLICT).",
  input: z.strictObject({
    statements: z
      .array(
        z.strictObject({
          sql: z.string().min(1).max(100_000),
          params: z.array(Param).max(1_000).default([]),
        }),
      )
      .min(1)
      .max(100),
  }),
  output: z.strictObject({
    results: z.array(z.strictObject({ command: z.string(), row_count: z.number().int() })),
  }),
  timeout: "60s",
  async run(ctx) {
    const { statements } = ctx.input;
    return withDatabase(ctx.connection, ctx.env, ctx.signal, async (sql) => {
      let at = 0;
      try {
        const results = await sql.begin(async (tx) => {
          const done: Array<{ command: string; row_count: number }> = [];
          for (const [i, statement] of statements.entries()) {
            at = i;
            const result = await tx.unsafe(statement.sql, statement.params);
            done.push({ command: result.command ?? "", row_count: result.count ?? 0 });
          }
          return done;
        });
        ctx.log("info", `committed ${results.length} statement(s)`);
        return { results };
      } catch (thrown) {
        const error = thrown as { message?: unknown; code?: unknown };
        // A server error (a SQLSTATE) rolled the transaction back; a lost connection leaves it unknown.
        const where =
          typeof error.code === "string" && /^[0-9A-Z]{5}$/.test(error.code) && /\d/.test(error.code)
            ? `statement ${at + 1} of ${statements.length} failed; the transaction was rolled back`
            : `statement ${at + 1} of ${statements.length} did not complete (the connection failed)`;
        if (thrown instanceof NonRetriableError) throw thrown;
        // Keep the server's code so the mapping still tells transient from final.
        if (typeof error.message === "string") error.message = `${where}: ${error.message}`;
        throw thrown;
      }
    });
  },
});
