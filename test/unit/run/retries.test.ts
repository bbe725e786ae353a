import { describe, expect, it } from "vitest";
import { type RetryPolicy, retryDelay, retryPolicy } from "../../../worker/engine/index";
import { BOOM, Harness, pipeline } from "./helpers";

const policy = (backoff: RetryPolicy["backoff"], max = 60_000): RetryPolicy => ({
  retries: 10,
  delay_ms: 1_000,
  backoff,
  max_delay_ms: max,
});

describe("retryDelay", () => {
  it.each([
    ["constant", [1, 2, 5], [1_000, 1_000, 1_000]],
    ["linear", [1, 2, 5], [1_000, 2_000, 5_000]],
    ["exponential", [1, 2, 5], [1_000, 2_000, 16_000]],
  ] as const)("grows %s with the attempt number", (backoff, attempts, delays) => {
    expect(attempts.map((n) => retryDelay(policy(backoff), n))).toEqual(delays);
  });

  it("never exceeds max_retry_delay, even where 2^n overflows", () => {
    expect(retryDelay(policy("exponential", 5_000), 4)).toBe(5_000);
    expect(retryDelay(policy("exponential", 5_000), 2_000)).toBe(5_000);
    expect(retryDelay(policy("linear", 5_000), 9)).toBe(5_000);
  });
});

describe("retryPolicy", () => {
  it("takes the task's settings first, then the spec's defaults", () => {
    const defaults = { retries: 3, retry_delay: "5s", retry_backoff: "exponential" as const };
    expect(retryPolicy({ retries: 1 }, defaults)).toEqual({
      retries: 1,
      delay_ms: 5_000,
      backoff: "exponential",
      max_delay_ms: 86_400_000,
    });
  });

  it("defaults to no retries, 30s constant, and a cap no shorter than the delay", () => {
    expect(retryPolicy({})).toEqual({
      retries: 0,
      delay_ms: 30_000,
      backoff: "constant",
      max_delay_ms: 86_400_000,
    });
    expect(retryPolicy({ retry_delay: "2d" }).max_delay_ms).toBe(2 * 86_400_000);
  });
});

describe("retries in a run", () => {
  const retrying = (extra: Record<string, unknown> = {}) =>
    new Harness(pipeline([{ id: "a", retries: 2, retry_delay: "10s", retry_backoff: "linear", ...extra }]));

  it("puts a retryable failure up_for_retry with a timer, without holding a slot", () => {
    const h = retrying();
    h.fail("a", true);
    expect(h.instance("a")).toMatchObject({ status: "up_for_retry", due_at: h.now + 10_000, error: BOOM });
    expect(h.of("set_timer")).toEqual([
      {
        type: "set_timer",
        id: "task:a",
        at: h.now + 10_000,
        timer: { reason: "retry", key: "a", dispatch: 1 },
      },
    ]);
  });

  it("dispatches the next attempt with the same generation when the retry timer fires", () => {
    const h = retrying();
    h.fail("a", true);
    h.fire("a");
    expect(h.dispatches()).toEqual([
      {
        type: "dispatch",
        key: "a",
        task: "a",
        map_index: -1,
        attempt: 2,
        generation: 0,
        dispatch: 2,
        deadline_at: null,
      },
    ]);
  });

  it("backs off by the policy between attempts, then fails once retries are used up", () => {
    const h = retrying();
    const start = h.now;
    h.fail("a", true);
    h.fire("a");
    h.fail("a", true);
    expect(h.instance("a")).toMatchObject({ status: "up_for_retry", due_at: start + 10_000 + 20_000 });
    h.fire("a");
    h.fail("a", true);
    expect(h.instance("a")).toMatchObject({ status: "failed", attempt: 3 });
    expect(h.state.status).toBe("failed");
  });

  it("fails at once on a non-retryable error, retries left or not", () => {
    const h = retrying();
    h.fail("a", false);
    expect(h.instance("a")).toMatchObject({ status: "failed", error: BOOM, attempt: 1 });
  });

  it("waits as long as a Retry-After asks, longer or shorter than its own backoff (at least 1 s)", () => {
    const h = retrying({ max_retry_delay: "15s" });
    const busy = { kind: "plugin_error", message: "429" } as const;
    h.answer("a", { status: "failure", error: busy, retryable: true, retry_after_ms: 120_000 });
    expect(h.instance("a")).toMatchObject({ status: "up_for_retry", due_at: h.now + 120_000 });
    h.fire("a");
    h.answer("a", { status: "failure", error: busy, retryable: true, retry_after_ms: 1 });
    expect(h.instance("a")).toMatchObject({ due_at: h.now + 1_000 });
  });

  it("pokes a sensor that asks for no wait at all after 250 ms, not in a busy loop", () => {
    const h = new Harness(pipeline([{ id: "s" }]));
    h.answer("s", { status: "waiting", retry_after_ms: 0 });
    expect(h.instance("s")).toMatchObject({ status: "waiting", due_at: h.now + 250 });
  });

  it("waits for a slot when the retry comes due while the run is at its cap", () => {
    const spec = pipeline([{ id: "a", retries: 1, retry_delay: "1s" }, { id: "b" }], {
      concurrency: { max_active_tasks: 1 },
    });
    const h = new Harness(spec);
    expect(h.dispatched()).toEqual(["a"]);
    h.fail("a", true);
    expect(h.dispatched()).toEqual(["b"]);
    expect(h.fire("a").kind).toBe("ignored");
    expect(h.status("a")).toBe("up_for_retry");
    h.succeed("b");
    expect(h.dispatched()).toEqual(["a"]);
  });
});

describe("timeouts", () => {
  it("sets a deadline per attempt and a timer for it", () => {
    const h = new Harness(pipeline([{ id: "a", timeout: "30s" }]));
    expect(h.dispatches()[0]?.deadline_at).toBe(h.now + 30_000);
    expect(h.timers.get("task:a")?.timer).toEqual({ reason: "timeout", key: "a", dispatch: 1 });
  });

  it("treats a deadline that passes while running as a retryable failure", () => {
    const h = new Harness(pipeline([{ id: "a", timeout: "30s", retries: 1, retry_delay: "1s" }]));
    h.answer("a", { status: "running" });
    h.fire("a");
    const timedOut = { kind: "timeout", message: "timed out after 30s" };
    expect(h.instance("a")).toMatchObject({ status: "up_for_retry", error: timedOut });
    h.fire("a");
    h.fire("a");
    expect(h.instance("a")).toMatchObject({ status: "failed", error: timedOut, attempt: 2 });
  });

  it("clears the timeout timer when the attempt finishes, and ignores it if it fires anyway", () => {
    const h = new Harness(pipeline([{ id: "a", timeout: "30s" }]));
    const timer = h.timers.get("task:a");
    h.succeed("a");
    expect(h.of("clear_timer")).toEqual([{ type: "clear_timer", id: "task:a" }]);
    if (!timer) throw new Error("no timeout timer");
    expect(h.send({ type: "timer", timer: timer.timer }).kind).toBe("ignored");
  });

  it("fails the run at its timeout and cancels what is still running or pending", () => {
    const h = new Harness(pipeline([{ id: "a" }, { id: "b" }, { id: "c", needs: ["a"] }], { timeout: "1h" }));
    expect(h.timers.get("run")?.at).toBe(h.now + 3_600_000);
    h.succeed("b");
    h.fire("run");
    expect(h.state).toMatchObject({ status: "failed", error: "run timed out after 1h" });
    expect([h.status("a"), h.status("b"), h.status("c")]).toEqual(["cancelled", "success", "cancelled"]);
    expect(h.of("run_finished")).toEqual([{ type: "run_finished", status: "failed" }]);
    expect(h.answer("a", { status: "success", output_ref: "late" }).kind).toBe("ignored");
  });

  it("clears the run timer when the run finishes first", () => {
    const h = new Harness(pipeline([{ id: "a" }], { timeout: "1h" }));
    h.succeed("a");
    expect(h.of("clear_timer")).toEqual([{ type: "clear_timer", id: "run" }]);
  });
});

describe("redelivery after the object died", () => {
  it("sends every dispatched, unanswered call again as the same dispatch with a fresh deadline", () => {
    const h = new Harness(pipeline([{ id: "a", timeout: "30s" }, { id: "b", timeout: "30s" }, { id: "c" }]));
    const first = h.dispatches();
    h.answer("b", { status: "running" }); // accepted: its callback will come
    h.succeed("c");
    h.now += 20_000;
    expect(h.send({ type: "redeliver" }).kind).toBe("applied");
    expect(h.dispatches()).toEqual([
      { ...first.find((d) => d.key === "a"), deadline_at: h.now + 30_000, redelivery: true },
    ]);
    expect(h.instance("a")).toMatchObject({ status: "scheduled", attempt: 1, deadline_at: h.now + 30_000 });
    expect(h.timers.get("task:a")?.at).toBe(h.now + 30_000);
    // The old deadline's timer is the same row, moved: firing at the old time finds nothing due.
    h.succeed("a");
    h.answer("b", { status: "success", output_ref: "out:b" });
    expect(h.state.status).toBe("success");
  });

  it("is ignored when nothing is in flight or the run is over", () => {
    const h = new Harness(pipeline([{ id: "a" }]));
    h.answer("a", { status: "running" });
    expect(h.send({ type: "redeliver" })).toMatchObject({ kind: "ignored", reason: "nothing was in flight" });
    h.answer("a", { status: "success", output_ref: "out:a" });
    expect(h.send({ type: "redeliver" })).toMatchObject({ kind: "ignored", reason: "run is success" });
  });
});
