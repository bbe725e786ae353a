/**
 * A hand-off whose report never comes back (the Dispatcher's call into the object failed) must not
 * hold its dispatches, and with them the object's pump, forever: each call ends by its own deadline
 * plus REPORT_GRACE_MS as a retryable error, so the task's retry sends it again once, with the same
 * idempotency key. Time is the test's (fake timers).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PreparedCall } from "../../worker/dispatcher/batch";
import { REPORT_GRACE_MS, RemoteBatch } from "../../worker/pipeline/remote";
import type { Outcome } from "../../worker/runner/outcome";

function call(token: string, deadlineInMs: number, now: number): PreparedCall {
  return {
    token,
    operator: "noop",
    invocation: {
      invocation_id: `run_1.${token}`,
      idempotency_key: `run_1/${token}/0`,
      attempt: 1,
      tenant: "acme",
      pipeline: "p",
      run: "run_1",
      task: token,
      map_index: -1,
      logical_date: null,
      input: {},
      connection: null,
      callback_url: "https://updraft.test/api/callbacks/unused",
      deadline: new Date(now + deadlineInMs).toISOString(),
      task_started_at: new Date(now).toISOString(),
    },
  };
}

describe("a hand-off whose report is lost", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("ends each call by its deadline plus the grace, as a retryable error, and releases the slot", async () => {
    const performed: PreparedCall[][] = [];
    // The Dispatcher accepts the batch, and its report never arrives.
    const env = {
      DISPATCHER: { perform: async (calls: PreparedCall[]) => void performed.push(calls) },
    } as unknown as Env;
    const waiting = new Map<string, (outcome: Outcome) => void>();
    let released = 0;
    const batch = new RemoteBatch(2, waiting, () => released++);
    const now = Date.now();
    const settled: Array<Outcome | "pending"> = ["pending", "pending"];
    void batch.call(env, call("fast", 1_000, now), now).then((o) => (settled[0] = o));
    void batch.call(env, call("slow", 30_000, now), now).then((o) => (settled[1] = o));
    await vi.advanceTimersByTimeAsync(0);
    expect(performed.map((calls) => calls.map((c) => c.token))).toEqual([["fast", "slow"]]);
    expect(released).toBe(1);

    await vi.advanceTimersByTimeAsync(1_000 + REPORT_GRACE_MS - 1);
    expect(settled).toEqual(["pending", "pending"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(settled[0]).toMatchObject({ kind: "failure", retryable: true, error: { kind: "timeout" } });
    expect(settled[1]).toBe("pending");
    await vi.advanceTimersByTimeAsync(29_000);
    expect(settled[1]).toMatchObject({ kind: "failure", retryable: true });
    expect(waiting.size).toBe(0);
  });

  it("keeps the reported outcome when the report arrives in time, and no later error replaces it", async () => {
    const env = { DISPATCHER: { perform: async () => undefined } } as unknown as Env;
    const waiting = new Map<string, (outcome: Outcome) => void>();
    const batch = new RemoteBatch(1, waiting, () => {});
    const now = Date.now();
    const outcomes: Outcome[] = [];
    void batch.call(env, call("a", 1_000, now), now).then((o) => outcomes.push(o));
    await vi.advanceTimersByTimeAsync(10);
    waiting.get("a")?.({ kind: "success", output: { ok: true }, logs: [] } as unknown as Outcome);
    // The deadline's timer went with the report: nothing is left to fire later.
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ kind: "success" });
  });
});
