/** Catalog entry for the PostgreSQL plugin; the operators live one per file in `operators/`. */
import { definePlugin } from "@updraft/plugin-sdk";
import { Connection, withDatabase } from "./database.ts";
import { execute } from "./operators/execute.ts";
import { query } from "./operators/query.ts";

export const postgresPlugin = definePlugin({
  name: "postgres",
  version: "1.0.0",
  title: "PostgreSQL",
  description:
    "Parameterised queries (rows as JSON, with a row limit) and transactions on PostgreSQL over TCP; errors " +
    "carry PostgreSQL's message and code, and only transient ones are retried.",
  categories: ["database", "data"],
  icon:
    "data:image/svg+xml;base64," +
    btoa(
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><ellipse cx="12" cy="6" rx="8" ry="3" ' +
        'fill="none" stroke="#336791" stroke-width="2"/><path d="M4 6v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6" ' +
        'fill="none" stroke="#336791" stroke-width="2"/></svg>',
    ),
  homepage: "https://github.com/updraft/updraft/tree/main/plugins/postgres",
  connection: Connection,
  operators: [query, execute],
  async testConnection(raw, ctx) {
    // A throw is a failed test with its message: the SDK's connection test says so (bounded).
    const version = await withDatabase(raw, ctx.env, ctx.signal, async (sql) => {
      const [row] = await sql.unsafe("select version() as version");
      return String(row?.version ?? "PostgreSQL");
    });
    return { ok: true, detail: `Connected: ${version.slice(0, 120)}` };
  },
});
