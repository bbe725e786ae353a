/** Multi-row statements stay within the Durable Object SQL limit of 100 bound parameters. */

import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { inList, insertRows, MAX_PARAMS } from "../../worker/pipeline/rows";

describe("multi-row statements", () => {
  it("inserts and deletes any number of rows in statements of at most 100 parameters", async () => {
    const stub = env.PIPELINE.get(env.PIPELINE.idFromName("rows-test"));
    const result = await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      sql.exec("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c TEXT)");
      let statements = 0;
      let widest = 0;
      const counting = {
        exec: (query: string, ...bindings: unknown[]) => {
          statements++;
          widest = Math.max(widest, bindings.length);
          return sql.exec(query, ...bindings);
        },
      } as unknown as SqlStorage;
      const rows = Array.from({ length: 250 }, (_, i) => [i, `b${i}`, `c${i}`]);
      insertRows(counting, "INSERT INTO t (a, b, c)", rows, "ON CONFLICT (a) DO UPDATE SET b = excluded.b");
      const inserted = { statements, widest, count: sql.exec("SELECT COUNT(*) AS n FROM t").one().n };
      statements = 0;
      insertRows(counting, "INSERT INTO t (a, b, c)", [], "");
      const none = statements;
      inList(
        counting,
        "DELETE FROM t WHERE c != ? AND a IN",
        ["keep"],
        Array.from({ length: 150 }, (_, i) => i),
      );
      const deleted = { statements, left: sql.exec("SELECT MIN(a) AS a, COUNT(*) AS n FROM t").one() };
      return { inserted, none, deleted, widest };
    });
    // 33 rows of 3 per statement: 8 statements for 250 rows.
    expect(result.inserted).toEqual({ statements: 8, widest: 99, count: 250 });
    expect(result.none).toBe(0);
    expect(result.deleted).toEqual({ statements: 2, left: { a: 150, n: 100 } });
    expect(result.widest).toBeLessThanOrEqual(MAX_PARAMS);
  });

  it("writes every row, of any width and count, with no statement over the limit (property)", async () => {
    const stub = env.PIPELINE.get(env.PIPELINE.idFromName("rows-property"));
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 400 }), (width, count) => {
          const columns = Array.from({ length: width }, (_, i) => `c${i}`);
          sql.exec(`DROP TABLE IF EXISTS p; CREATE TABLE p (${columns.join(", ")})`);
          let widest = 0;
          const counting = {
            exec: (query: string, ...bindings: unknown[]) => {
              widest = Math.max(widest, bindings.length);
              return sql.exec(query, ...bindings);
            },
          } as unknown as SqlStorage;
          const rows = Array.from({ length: count }, (_, r) => columns.map((_, c) => r * width + c));
          insertRows(counting, `INSERT INTO p (${columns.join(", ")})`, rows);
          const stored = sql
            .exec<{ n: number; total: number | null }>(
              `SELECT COUNT(*) AS n, SUM(${columns.join(" + ")}) AS total FROM p`,
            )
            .one();
          const expected = rows.flat().reduce((a, b) => a + b, 0);
          return widest <= MAX_PARAMS && stored.n === count && (stored.total ?? 0) === expected;
        }),
        { numRuns: 60 },
      );
    });
  });
});
