/** A PipelineDO that was evicted mid-run picks up the work nothing else would answer. */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Driver } from "../../worker/pipeline/driver";
import { WATCHDOG_MS } from "../../worker/pipeline/object";
import type { Outcome } from "../../worker/runner/outcome";
import { rewindToDispatched, task, withPipeline } from "./runs-helpers";

const pending = (gate: string) => ({
  status: "pending",
  gate,
  map_index: -1,
  attempt: 0,
  dispatch: 0,
  started_at: null,
  ended_at: null,
});

describe("run recovery", () => {
  it("re-evaluates a for_each whose evaluation was lost with the object, and finishes the run", async () => {
    const { stub, start, detail } = await withPipeline({
      name: "Mapping",
      tasks: [
        { id: "items", uses: "core/transform@^1", with: { expression: "['x', 'y']" } },
        {
          id: "each",
          uses: "core/noop@^1",
          needs: ["items"],
          for_each: "{{ tasks.items.output }}",
          with: { value: "{{ item }}" },
        },
      ],
    });
    const run = await start();
    expect(run.status).toBe("success");
    await runInDurableObject(stub, async (instance, state) => {
      // Rewind to "items done, for_each being evaluated" as an evicted object would have left it.
      const sql = state.storage.sql;
      const saved = JSON.parse(
        sql.exec<{ state: string }>("SELECT state FROM runs WHERE id = ?", run.id).one().state,
      );
      saved.status = "running";
      saved.ended_at = null;
      saved.tasks.each = { generation: 0, items_ref: null, instances: [pending("for_each")] };
      sql.exec("UPDATE runs SET status = 'running', state = ? WHERE id = ?", JSON.stringify(saved), run.id);
      const fresh = new Driver(state, env);
      fresh.recover();
      await fresh.pump.idle();
      // The live object's in-memory copies predate what the fresh driver wrote.
      instance.forgetCachedState();
    });
    const after = await detail(run.id);
    expect(after.status).toBe("success");
    expect([task(after, "each", 0).output, task(after, "each", 1).output]).toEqual([
      { value: "x" },
      { value: "y" },
    ]);
  });

  it("sends a call that was in flight when the object died again, as the same invocation", async () => {
    const { stub, start, detail } = await withPipeline(chain);
    const run = await start();
    expect(run.status).toBe("success");
    const before = task(run, "b");
    await runInDurableObject(stub, async (instance, state) => {
      rewindToDispatched(state.storage.sql, run.id, "cb_lost");
      const fresh = new Driver(state, env);
      fresh.recover();
      await fresh.pump.idle();
      // The token was consumed by the answer: the redelivery was that same dispatch.
      expect(state.storage.sql.exec("SELECT * FROM callbacks WHERE token = 'cb_lost'").toArray()).toEqual([]);
      instance.forgetCachedState();
    });
    const after = await detail(run.id);
    expect(after.status).toBe("success");
    // Same attempt: a redelivery is not a retry.
    expect(task(after, "b").attempts).toBe(before.attempts);
    expect(task(after, "b").output).toEqual({ value: "again" });
  });

  it("counts a Dispatcher's report that reaches the object after it restarted, once", async () => {
    const { stub, start, detail } = await withPipeline(chain);
    const run = await start();
    await runInDurableObject(stub, async (instance, state) => {
      rewindToDispatched(state.storage.sql, run.id, "cb_reported");
      instance.forgetCachedState();
    });
    const outcome: Outcome = { kind: "success", output: { value: "reported" }, logs: [] };
    const report = { results: [{ token: "cb_reported", outcome }], peak_in_flight: 1 };
    expect(await stub.reportResults(report)).toEqual({ delivered: 1 });
    expect(await stub.reportResults(report)).toEqual({ delivered: 0 });
    const after = await detail(run.id);
    expect(after.status).toBe("success");
    expect(task(after, "b").output).toEqual({ value: "reported" });
  });

  it("does not hold an alarm past its budget while work is in flight, and comes back by the watchdog", async () => {
    const { stub } = await withPipeline(chain);
    // Work that never goes idle (a plugin call that hangs for longer than an alarm may run).
    await runInDurableObject(stub, async (instance, state) => {
      const inner = instance as unknown as { alarmWaitMs: number; driver: { pump: object } };
      inner.alarmWaitMs = 50;
      Object.defineProperty(inner.driver.pump, "busy", { get: () => true });
      Object.defineProperty(inner.driver.pump, "idle", { value: () => new Promise(() => {}) });
      await state.storage.setAlarm(Date.now());
    });
    const before = Date.now();
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const after = Date.now();
    expect(after - before).toBeLessThan(5_000);
    const next = await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    // The watchdog: within WATCHDOG_MS of the alarm's end.
    expect(next).not.toBeNull();
    expect(next ?? 0).toBeGreaterThan(before);
    expect(next ?? 0).toBeLessThanOrEqual(after + WATCHDOG_MS);
    // The object's pump stays stuck on purpose: no alarm may keep coming back after this test.
    await runInDurableObject(stub, (_instance, state) => state.storage.deleteAlarm());
  });
});

const chain = {
  name: "Chain",
  tasks: [
    { id: "a", uses: "core/noop@^1", with: { value: "first" } },
    { id: "b", uses: "core/noop@^1", needs: ["a"], with: { value: "again" } },
  ],
};
