/**
 * Liveness when storage refuses a transition (issue 11 §4): an answer the object cannot record is never
 * lost silently (its task fails with a platform_error, or the answer comes back later, a bounded number of times), and one run
 * that cannot be recovered does not keep the others from recovering.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { Driver, RECOVER_RETRY_MS } from "../../worker/pipeline/driver";
import { MAX_TRIES } from "../../worker/pipeline/inbox";
import type { Delivery } from "../../worker/pipeline/transition";
import { rewindToDispatched, task, withPipeline } from "./runs-helpers";

/** What the tests reach inside a Driver: its store and transitions are where storage is refused. */
type Inner = {
  busy: boolean;
  store: { putBlobs: (run: string, blobs: { ref: string; value: unknown }[]) => void };
  transitions: { applyAll: (run: string, items: readonly Delivery[], now: number) => unknown };
  inbox: { retryMs: readonly number[]; retrying: number };
};
const inner = (driver: unknown) => driver as Inner;
const driverOf = (instance: unknown) => inner((instance as { driver: unknown }).driver);

const full = () => new Error("SQLITE_FULL: database or disk is full");

const chain = {
  name: "Chain",
  tasks: [
    { id: "a", uses: "core/noop@^1", retries: 1, retry_delay: "1s", with: { value: "first" } },
    { id: "b", uses: "core/noop@^1", needs: ["a"], with: { value: "second" } },
  ],
};

describe("answers the object cannot record", () => {
  it("fail their task with a retryable platform_error, and the retry finishes the run", async () => {
    const { stub, start, detail, alarm } = await withPipeline(chain);
    await runInDurableObject(stub, (instance) => {
      const store = driverOf(instance).store;
      const put = store.putBlobs.bind(store);
      let refused = false;
      // The disk fills up once, just as a's output is written.
      store.putBlobs = (run, blobs) => {
        if (blobs.some((b) => b.ref.startsWith("out:")) && !refused) {
          refused = true;
          throw full();
        }
        put(run, blobs);
      };
    });
    const run = await start();
    expect(run.status).toBe("running");
    const a = task(run, "a");
    expect(a.status).toBe("up_for_retry");
    expect(a.error).toEqual({
      kind: "platform_error",
      message: expect.stringContaining("could not record this answer: SQLITE_FULL"),
    });
    // The retry's timer is the one that brings it back, once its second has passed on the test's clock.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 1_500);
    try {
      expect(await alarm()).toBe(true);
    } finally {
      vi.useRealTimers();
    }
    const after = await detail(run.id);
    expect(after.status).toBe("success");
    expect(task(after, "a").attempts).toBe(2);
    expect(task(after, "b").output).toEqual({ value: "second" });
  });

  it("come back later when not even the failure can be written, and the run then finishes", async () => {
    const { stub, start, detail } = await withPipeline({ ...chain, tasks: chain.tasks.slice(0, 1) });
    let recorded: Promise<{ busyWhileWaiting: boolean }> | undefined;
    await runInDurableObject(stub, (instance) => {
      const driver = driverOf(instance);
      driver.inbox.retryMs = [5];
      const transitions = driver.transitions;
      const apply = transitions.applyAll.bind(transitions);
      let refusals = 0;
      let busyWhileWaiting = false;
      let answered: () => void = () => {};
      recorded = new Promise<void>((resolve) => {
        answered = resolve;
      }).then(() => ({ busyWhileWaiting }));
      // Storage refuses a task's answer four times: the answer and its failure, now and on the first try
      // later; the second try records the answer itself.
      transitions.applyAll = (run, items, now) => {
        const answer = items.some(({ event }) => event.type === "task_result");
        if (answer && refusals < 4) {
          refusals++;
          // While an answer waits, the object counts as busy, so its watchdog alarm keeps coming.
          if (refusals === 3) busyWhileWaiting = driver.busy;
          throw full();
        }
        const result = apply(run, items, now);
        if (answer) answered();
        return result;
      };
    });
    const run = await start();
    expect(await recorded).toEqual({ busyWhileWaiting: true });
    const after = await detail(run.id);
    expect(after.status).toBe("success");
    // The answer itself was recorded, not a failure: one attempt, its output kept.
    expect(task(after, "a")).toMatchObject({ status: "success", attempts: 1, output: { value: "first" } });
    expect(await runInDurableObject(stub, (instance) => driverOf(instance).busy)).toBe(false);
  });

  it("are dropped after MAX_TRIES when storage never takes them, so the object can go idle", async () => {
    const { stub, start } = await withPipeline({ ...chain, tasks: chain.tasks.slice(0, 1) });
    let dropped: Promise<number> | undefined;
    await runInDurableObject(stub, (instance) => {
      const driver = driverOf(instance);
      driver.inbox.retryMs = [1];
      const transitions = driver.transitions;
      const apply = transitions.applyAll.bind(transitions);
      let refusals = 0;
      transitions.applyAll = (run, items, now) => {
        if (items.some(({ event }) => event.type === "task_result")) {
          refusals++;
          throw full();
        }
        return apply(run, items, now);
      };
      dropped = (async () => {
        // Wait for the first refusal, then for the retries to stop.
        while (refusals === 0 || driver.inbox.retrying > 0) await new Promise((r) => setTimeout(r, 5));
        return refusals;
      })();
    });
    await start();
    // The batch, the answer alone and its failure, then each later try of both: never more.
    const refusals = await dropped;
    expect(refusals).toBeGreaterThan(MAX_TRIES);
    expect(refusals).toBeLessThanOrEqual(3 + 2 * MAX_TRIES);
    expect(await runInDurableObject(stub, (instance) => driverOf(instance).inbox.retrying)).toBe(0);
  });
});

describe("recovery after a restart", () => {
  it("recovers the other runs when one throws, and that one on a later try", async () => {
    const { stub, start, detail } = await withPipeline(chain);
    const first = await start();
    const second = await start();
    await runInDurableObject(stub, async (instance, state) => {
      for (const run of [first.id, second.id]) rewindToDispatched(state.storage.sql, run, `cb_${run}`);
      const fresh = new Driver(state, env);
      const transitions = inner(fresh).transitions;
      const apply = transitions.applyAll.bind(transitions);
      let broken = true;
      transitions.applyAll = (run, items, now) => {
        if (broken && run === first.id) throw full();
        return apply(run, items, now);
      };
      const now = Date.now();
      fresh.recover(now);
      await fresh.pump.idle();
      expect(inner(fresh).busy).toBe(true);
      expect(runStatus(state.storage.sql, second.id)).toBe("success");
      expect(runStatus(state.storage.sql, first.id)).toBe("running");
      // Too soon: not tried again on every entry.
      broken = false;
      fresh.recover(now + 1);
      await fresh.pump.idle();
      expect(runStatus(state.storage.sql, first.id)).toBe("running");
      fresh.recover(now + RECOVER_RETRY_MS);
      await fresh.pump.idle();
      expect(runStatus(state.storage.sql, first.id)).toBe("success");
      expect(inner(fresh).busy).toBe(false);
      instance.forgetCachedState();
    });
    for (const run of [first, second]) {
      const after = await detail(run.id);
      expect(task(after, "b")).toMatchObject({ status: "success", output: { value: "second" } });
    }
    // Nothing left for an alarm to do.
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });
});

function runStatus(sql: SqlStorage, run: string): string {
  return sql.exec<{ status: string }>("SELECT status FROM runs WHERE id = ?", run).one().status;
}
