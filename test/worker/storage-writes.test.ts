/// <reference types="vite/client" />
/**
 * The production limits of DESIGN.md §2, counted: the run's state is written once per transition (and
 * a fan-out's answers are folded, not written one by one), per-instance rows go in multi-row statements,
 * and large payloads are kept by reference. SQLite triggers record the object's writes as they happen.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Driver } from "../../worker/pipeline/driver";
import type { PipelineDO } from "../../worker/pipeline/object";
import { MAX_IN_MEMORY_PAYLOAD_CHARS } from "../../worker/pipeline/store";
import { task, withPipeline } from "./runs-helpers";

/** Durable Object SQL binds at most 100 parameters per statement (the platform's limit, not ours). */
const MAX_PARAMS = 100;

const OPS = ["INSERT", "UPDATE", "DELETE"] as const;

/** One row written: its table, how, in which transition (0: outside any) and which statement. */
type Write = { table: string; op: (typeof OPS)[number]; transition: number; statement: number };

type Recorded = {
  /** The rows of each transition that wrote any, in order. */
  transitions: Write[][];
  /** Rows written outside a transition. */
  outside: Write[];
  /** Columns per table: the widest row a statement can carry. */
  columns: Record<string, number>;
};

/**
 * Records every row the object writes from now on. A trigger on each of its tables (read from
 * sqlite_master: every one but SQLite's and the platform's) adds a line to `test_writes`. A transition
 * is one transactionSync, which the recorder numbers, so rows count per transition. Statements are told
 * apart by `total_changes()`: it counts a statement's rows when the statement completes and each
 * trigger's insert at once, so minus the lines recorded so far it stays the same within a statement and
 * grows from one to the next.
 */
async function recordWrites(stub: DurableObjectStub<PipelineDO>): Promise<() => Promise<Recorded>> {
  await runInDurableObject(stub, (_instance, { storage }) => {
    const sql = storage.sql;
    const tables = sql
      .exec<{ name: string }>(
        `SELECT name FROM sqlite_master WHERE type = 'table'
           AND substr(name, 1, 7) != 'sqlite_' AND substr(name, 1, 4) != '_cf_'`,
      )
      .toArray()
      .map((row) => row.name);
    sql.exec(
      `CREATE TABLE test_writes (tbl TEXT NOT NULL, op TEXT NOT NULL, transition INTEGER NOT NULL,
         statement INTEGER NOT NULL);
       CREATE TABLE test_transition (n INTEGER NOT NULL);
       INSERT INTO test_transition VALUES (0);`,
    );
    for (const table of tables) {
      for (const op of OPS) {
        sql.exec(
          `CREATE TRIGGER "test_${op}_${table}" AFTER ${op} ON "${table}" BEGIN
             INSERT INTO test_writes VALUES ('${table}', '${op}', (SELECT n FROM test_transition),
               total_changes() - (SELECT COUNT(*) FROM test_writes));
           END`,
        );
      }
    }
    const transactionSync = storage.transactionSync.bind(storage);
    let depth = 0;
    let transitions = 0;
    storage.transactionSync = <T>(write: () => T): T =>
      transactionSync(() => {
        if (depth++ === 0) sql.exec("UPDATE test_transition SET n = ?", ++transitions);
        try {
          return write();
        } finally {
          if (--depth === 0) sql.exec("UPDATE test_transition SET n = 0");
        }
      });
  });
  return () =>
    runInDurableObject(stub, (_instance, { storage }) => {
      const sql = storage.sql;
      const writes = sql
        .exec<Write>(`SELECT tbl AS "table", op, transition, statement FROM test_writes ORDER BY rowid`)
        .toArray();
      const numbers = [...new Set(writes.map((w) => w.transition).filter((n) => n > 0))];
      const columns: Record<string, number> = {};
      for (const { table } of writes) {
        columns[table] ??= sql
          .exec<{ n: number }>("SELECT COUNT(*) AS n FROM pragma_table_info(?)", table)
          .one().n;
      }
      return {
        transitions: numbers.map((n) => writes.filter((w) => w.transition === n)),
        outside: writes.filter((w) => w.transition === 0),
        columns,
      };
    });
}

/** Rows written per table. */
function rowsPerTable(writes: readonly Write[]): Record<string, number> {
  const rows: Record<string, number> = {};
  for (const { table } of writes) rows[table] = (rows[table] ?? 0) + 1;
  return rows;
}

/**
 * The (table, kind of write) pairs of one transition that took more statements than their rows need:
 * a statement carries ⌊MAX_PARAMS / columns⌋ rows of the table even at full width.
 */
function spread(writes: readonly Write[], columns: Record<string, number>): string[] {
  const groups = new Map<string, { table: string; rows: number; statements: Set<number> }>();
  for (const { table, op, statement } of writes) {
    const key = `${op} ${table}`;
    const group = groups.get(key) ?? { table, rows: 0, statements: new Set() };
    group.rows++;
    group.statements.add(statement);
    groups.set(key, group);
  }
  return [...groups].flatMap(([key, { table, rows, statements }]) => {
    const perStatement = Math.floor(MAX_PARAMS / (columns[table] ?? MAX_PARAMS));
    const fewest = Math.ceil(rows / perStatement);
    return statements.size > fewest ? [`${key}: ${rows} rows in ${statements.size} statements`] : [];
  });
}

/** A fan-out of `items` noop instances, run with every write recorded. */
async function fanOutWrites(items: number) {
  const { stub, start } = await withPipeline(fanOut(items));
  const writes = await recordWrites(stub);
  const run = await start();
  expect(run.status).toBe("success");
  expect(run.tasks.filter((t) => t.id === "each" && t.status === "success")).toHaveLength(items);
  return writes();
}

/** What a run's creation writes: the pipeline's identity and version, the run, its summary and audit. */
/** The object has the version since the save synced it (with its webhooks): a run does not write it. */
/** A run is created with its audit entry and the plugin bindings it pins (a blob of the run). */
const CREATED = { meta: 1, runs: 1, blobs: 1, summary_outbox: 1, audit_outbox: 1 };

describe("storage writes", () => {
  it("writes a chain's run once per transition, with only the rows the transition changes", async () => {
    const { stub, start } = await withPipeline({
      name: "Chain",
      tasks: [
        { id: "a", uses: "core/noop@^1", with: { value: 1 } },
        { id: "b", uses: "core/noop@^1", needs: ["a"], with: { value: 2 } },
        { id: "c", uses: "core/noop@^1", needs: ["b"], with: { value: 3 } },
      ],
    });
    const writes = await recordWrites(stub);
    const run = await start();
    expect(run.status).toBe("success");
    const { transitions, outside } = await writes();
    expect(transitions.map(rowsPerTable)).toEqual([
      CREATED,
      // Started (its summary is marked): a is dispatched, with its deadline timer and callback token.
      { runs: 1, summary_outbox: 1, timers: 1, callbacks: 1 },
      // a answered: its output is kept, its timer and token go, b's come.
      { runs: 1, blobs: 1, timers: 2, callbacks: 2 },
      // b answered: the same for c.
      { runs: 1, blobs: 1, timers: 2, callbacks: 2 },
      // c answered: the run succeeded.
      { runs: 1, summary_outbox: 1, blobs: 1, timers: 1, callbacks: 1 },
    ]);
    // Outside transitions, only the write-behind to D1 empties its outboxes (as often as it flushed).
    expect(new Set(outside.map((w) => `${w.op} ${w.table}`))).toEqual(
      new Set(["DELETE summary_outbox", "DELETE audit_outbox"]),
    );
  });

  it("folds a fan-out's answers: the run is written once per transition, far fewer times than instances", async () => {
    const items = 60;
    const { transitions } = await fanOutWrites(items);
    expect(transitions.map((t) => rowsPerTable(t).runs)).toEqual(transitions.map(() => 1));
    const [created, started, expanded, ...answers] = transitions.map(rowsPerTable);
    expect([created, started, expanded]).toEqual([
      CREATED,
      { runs: 1, summary_outbox: 1 },
      // for_each expanded: its list is kept, and every instance is dispatched with a timer and a token.
      { runs: 1, blobs: 1, timers: items, callbacks: items },
    ]);
    // Outcomes come back in one report per hand-off of up to 36 calls (two here), or in a few more when
    // some straggle past the Dispatcher's report window; each report is folded into one transition.
    expect(answers.length).toBeGreaterThanOrEqual(1);
    expect(answers.length).toBeLessThanOrEqual(items / 6);
  });

  it("writes a fan-out's per-instance rows once each, in as few statements as the parameter limit allows", async () => {
    const items = 100;
    const { transitions, columns } = await fanOutWrites(items);
    // Each instance's output once, its timer and token set once and cleared once: no row rewritten.
    expect(rowsPerTable(transitions.slice(2).flat())).toEqual({
      runs: transitions.length - 2,
      summary_outbox: 1,
      blobs: items + 1,
      timers: 2 * items,
      callbacks: 2 * items,
    });
    // One statement per row would be 100 statements for the tokens alone.
    expect(transitions.flatMap((t) => spread(t, columns))).toEqual([]);
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
