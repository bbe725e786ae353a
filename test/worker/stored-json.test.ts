/**
 * JSON read back from D1 or a PipelineDO's SQLite goes through its schema: a corrupt row fails with an
 * error that names it, and one corrupt timer row does not hold up the others.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { StoredValueError } from "../../worker/engine";
import { Store } from "../../worker/pipeline/store";
import { Timers } from "../../worker/pipeline/timers";
import { expectProblem, ownerWithTenant } from "./helpers";
import { savePipeline } from "./runs-helpers";

afterEach(() => {
  vi.restoreAllMocks();
});

const objectNamed = (name: string) => env.PIPELINE.get(env.PIPELINE.idFromName(name));

describe("stored timer rows", () => {
  it("delivers the good rows and backs off a row whose ref is corrupt, leaving the clock's row alone", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const due = await runInDurableObject(objectNamed("stored-json-timers"), (_instance, state) => {
      const sql = state.storage.sql;
      const insert = (run: string, id: string, at: number, ref: string, kind = "run") =>
        sql.exec(
          "INSERT INTO timers (run, id, at, ref, kind) VALUES (?, ?, ?, ?, ?)",
          run,
          id,
          at,
          ref,
          kind,
        );
      insert("~schedule", "next_fire", 900, "{}", "schedule");
      insert("run_bad", "retry:a", 1_000, '{"reason":"retry","key":"a"}');
      insert("run_good", "retry:b", 1_500, '{"reason":"retry","key":"b","dispatch":3}');
      insert("run_good", "run_timeout", 1_600, '{"reason":"run_timeout","at":1600}');
      const found = new Timers(sql, state.storage).due(2_000);
      const rows = sql
        .exec<{ run: string; at: number; attempts: number }>(
          "SELECT run, at, attempts FROM timers ORDER BY run, id",
        )
        .toArray();
      return { found, rows };
    });
    expect(due.found.map((t) => (t.kind === "run" ? t.ref : t.kind))).toEqual([
      "schedule",
      { reason: "retry", key: "b", dispatch: 3 },
      { reason: "run_timeout", at: 1_600 },
    ]);
    expect(due.rows).toEqual([
      { run: "run_bad", at: 2_000 + 5_000, attempts: 1 },
      { run: "run_good", at: 1_500, attempts: 0 },
      { run: "run_good", at: 1_600, attempts: 0 },
      { run: "~schedule", at: 900, attempts: 0 },
    ]);
    const error = logged.mock.calls.flat().find((arg) => arg instanceof StoredValueError);
    expect(error?.message).toMatch(/^stored timer ref is corrupt: dispatch: /);
  });
});

describe("a stored pipeline identity", () => {
  it("throws an error naming it instead of handing on a wrong shape", async () => {
    const message = await runInDurableObject(objectNamed("stored-json-identity"), (_instance, state) => {
      state.storage.sql.exec("INSERT INTO meta (key, value) VALUES ('identity', '{\"tenant_id\":7}')");
      try {
        new Store(state.storage).identity();
        return "read";
      } catch (error) {
        return error instanceof StoredValueError ? error.message : String(error);
      }
    });
    expect(message).toMatch(/^stored pipeline identity is corrupt: tenant_id: /);
  });
});

describe("a stored spec in D1", () => {
  it("answers 500 and logs which stored value is corrupt when a version's spec lost its tasks", async () => {
    const { owner, slug } = await ownerWithTenant();
    await savePipeline(owner, slug, "corrupt", {
      name: "Corrupt",
      tasks: [{ id: "a", uses: "core/noop@^1" }],
    });
    await env.DB.prepare(
      "UPDATE pipeline_versions SET spec = ? WHERE pipeline_id = (SELECT p.id FROM pipelines p JOIN tenants t ON t.id = p.tenant_id WHERE t.slug = ? AND p.slug = 'corrupt')",
    )
      .bind(JSON.stringify({ name: "Corrupt" }), slug)
      .run();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    for (const path of ["", "/versions/1"]) {
      const res = await owner.json("GET", `/api/tenants/${slug}/pipelines/corrupt${path}`);
      expect(expectProblem(res, 500).detail).not.toMatch(/corrupt/);
    }
    const errors = logged.mock.calls.flat().filter((arg) => arg instanceof StoredValueError);
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^stored pipeline spec is corrupt: tasks: /),
      expect.stringMatching(/^stored pipeline spec is corrupt: tasks: /),
    ]);
  });
});
