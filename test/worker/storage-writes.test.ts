/// <reference types="vite/client" />
/**
 * The production limits of DESIGN.md §2, counted: the run's state is written once per transition (and
 * a fan-out's answers are folded, not written one by one), and large payloads are kept by reference.
 * SQLite triggers count the object's writes as they happen.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Driver } from "../../worker/pipeline/driver";
import type { PipelineDO } from "../../worker/pipeline/object";
import { MAX_IN_MEMORY_PAYLOAD_CHARS } from "../../worker/pipeline/store";
import { task, withPipeline } from "./runs-helpers";

/** Counts every write of a run's row from now on. */
async function countRunWrites(stub: DurableObjectStub<PipelineDO>): Promise<() => Promise<number>> {
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec(
      `CREATE TABLE IF NOT EXISTS test_run_writes (n INTEGER);
       CREATE TRIGGER IF NOT EXISTS test_count_run_updates AFTER UPDATE ON runs
         BEGIN INSERT INTO test_run_writes VALUES (1); END;
       CREATE TRIGGER IF NOT EXISTS test_count_run_inserts AFTER INSERT ON runs
         BEGIN INSERT INTO test_run_writes VALUES (1); END;
       DELETE FROM test_run_writes;`,
    );
  });
  return () =>
    runInDurableObject(
      stub,
      (_instance, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM test_run_writes").one().n,
    );
}

/** Counts the SQL statements the object runs from now on (writes and reads apart). */
async function countStatements(stub: DurableObjectStub<PipelineDO>) {
  await runInDurableObject(stub, (instance, state) => {
    const sql = state.storage.sql;
    const counts = { writes: 0, reads: 0 };
    const exec = sql.exec.bind(sql);
    sql.exec = ((query: string, ...bindings: unknown[]) => {
      if (/^\s*(INSERT|UPDATE|DELETE)/i.test(query)) counts.writes++;
      else counts.reads++;
      return exec(query, ...bindings);
    }) as typeof sql.exec;
    (instance as unknown as { statementCounts: typeof counts }).statementCounts = counts;
  });
  return () =>
    runInDurableObject(stub, (instance) => ({
      ...(instance as unknown as { statementCounts: { writes: number; reads: number } }).statementCounts,
    }));
}

describe("storage writes", () => {
  it("writes a chain's run once when it is created and once per transition", async () => {
    const { stub, start } = await withPipeline({
      name: "Chain",
      tasks: [
        { id: "a", uses: "core/noop@^1", with: { value: 1 } },
        { id: "b", uses: "core/noop@^1", needs: ["a"], with: { value: 2 } },
        { id: "c", uses: "core/noop@^1", needs: ["b"], with: { value: 3 } },
      ],
    });
    const writes = await countRunWrites(stub);
    const run = await start();
    expect(run.status).toBe("success");
    // Created, started (a dispatched), a answered (b dispatched), b answered, c answered (finished).
    expect(await writes()).toBe(5);
  });

  it("folds a fan-out's answers: fewer writes of the run than mapped instances", async () => {
    const items = 60;
    const { stub, start } = await withPipeline(fanOut(items));
    const writes = await countRunWrites(stub);
    const run = await start();
    expect(run.status).toBe("success");
    expect(run.tasks.filter((t) => t.id === "each" && t.status === "success")).toHaveLength(items);
    const count = await writes();
    expect(count).toBeGreaterThanOrEqual(3);
    expect(count).toBeLessThan(items / 2);
  });

  it("writes a fan-out's per-instance rows (timers, tokens, outputs, logs) in multi-row statements, and reads none per instance", async () => {
    const items = 100;
    const { stub, start } = await withPipeline(fanOut(items));
    const statements = await countStatements(stub);
    const run = await start();
    expect(run.status).toBe("success");
    const { writes, reads } = await statements();
    // One statement per row would be at least five writes per instance (timeout timer set and
    // cleared, callback token added and dropped, output stored), 500 in all.
    expect(writes).toBeGreaterThan(0);
    expect(writes).toBeLessThan(items * 1.5);
    // Nothing is read per instance either (the pipeline's identity, the runs: from memory).
    expect(reads).toBeLessThan(items);
  });

  it("keeps a payload over the threshold by reference, in SQLite and not in memory", async () => {
    const big = "x".repeat(MAX_IN_MEMORY_PAYLOAD_CHARS + 1);
    const { stub, start } = await withPipeline({
      name: "Big output",
      tasks: [
        { id: "big", uses: "core/noop@^1", with: { value: big } },
        {
          id: "small",
          uses: "core/noop@^1",
          needs: ["big"],
          with: { value: "{{ $length(tasks.big.output.value) }}" },
        },
      ],
    });
    const run = await start();
    expect(run.status).toBe("success");
    expect(task(run, "small").output).toEqual({ value: big.length });
    await runInDurableObject(stub, (instance, state) => {
      const rows = state.storage.sql
        .exec<{ ref: string; chars: number }>(
          "SELECT ref, length(body) AS chars FROM blobs WHERE run = ? AND ref LIKE 'out:%'",
          run.id,
        )
        .toArray();
      const store = (instance as unknown as { driver: Driver }).driver.store;
      const held = rows.map((row) => [row.chars > MAX_IN_MEMORY_PAYLOAD_CHARS, store.holds(row.ref)]);
      expect(held.sort()).toEqual([
        [false, true],
        [true, false],
      ]);
    });
  });
});

describe("no await on storage in the object's loops, by construction", () => {
  // The object's sources as text (Vite's raw import): the test reads how storage is reached.
  const sources = import.meta.glob<string>("../../worker/pipeline/*.ts", {
    query: "?raw",
    import: "default",
    eager: true,
  });

  it("reads its own sources", () => {
    expect(Object.keys(sources).length).toBeGreaterThan(10);
  });

  it("never uses the asynchronous key-value storage API: SQL is synchronous", () => {
    const async = /\bstorage\.(get|put|delete|list|transaction)\(/;
    const offenders = Object.entries(sources).filter(([, text]) => async.test(text));
    expect(offenders.map(([path]) => path)).toEqual([]);
  });

  it("awaits storage only to arm the one alarm, in timers.ts", () => {
    const awaited = /await\s+(this\.)?(ctx\.)?storage\.\w+/g;
    const places = Object.entries(sources).flatMap(([path, text]) =>
      [...text.matchAll(awaited)].map((match) => `${path.split("/").pop()}: ${match[0]}`),
    );
    expect([...new Set(places)].sort()).toEqual([
      "timers.ts: await this.storage.deleteAlarm",
      "timers.ts: await this.storage.getAlarm",
      "timers.ts: await this.storage.setAlarm",
    ]);
  });
});

/** One noop task mapped over 1..items, with room for every instance at once. */
function fanOut(items: number) {
  return {
    name: "Fan-out",
    concurrency: { max_active_tasks: items },
    tasks: [
      { id: "each", uses: "core/noop@^1", for_each: `{{ [1..${items}] }}`, with: { value: "{{ item }}" } },
    ],
  };
}
