import { describe, expect, it } from "vitest";
import { Harness, pipeline } from "./helpers";

describe("stale and repeated events", () => {
  it("ignores the same result delivered twice", () => {
    const h = new Harness(pipeline([{ id: "a" }, { id: "b", needs: ["a"] }]));
    const { attempt, dispatch } = h.instance("a");
    const result = {
      type: "task_result",
      key: "a",
      attempt,
      dispatch,
      outcome: { status: "success", output_ref: "o" },
    } as const;
    expect(h.send(result).kind).toBe("applied");
    const state = h.state;
    expect(h.send(result).kind).toBe("ignored");
    expect(h.state).toBe(state);
  });

  it("ignores a result that names an older dispatch or the wrong attempt", () => {
    const h = new Harness(pipeline([{ id: "a", retries: 1, retry_delay: "1s" }]));
    const first = h.instance("a");
    h.fail("a", true);
    h.fire("a");
    const stale = {
      type: "task_result",
      key: "a",
      attempt: first.attempt,
      dispatch: first.dispatch,
      outcome: { status: "success", output_ref: "o" },
    } as const;
    expect(h.send(stale).kind).toBe("ignored");
    const current = h.instance("a");
    expect(h.send({ ...stale, dispatch: current.dispatch, attempt: 7 }).kind).toBe("ignored");
    expect(h.status("a")).toBe("scheduled");
  });

  it("ignores a sensor's repeated waiting answer once it has been re-poked", () => {
    const h = new Harness(pipeline([{ id: "s" }]));
    const { attempt, dispatch } = h.instance("s");
    const waiting = {
      type: "task_result",
      key: "s",
      attempt,
      dispatch,
      outcome: { status: "waiting", retry_after_ms: 10 },
    } as const;
    h.send(waiting);
    h.fire("s");
    expect(h.send(waiting).kind).toBe("ignored");
  });

  it("ignores results for unknown instances and a running answer for a running instance", () => {
    const h = new Harness(pipeline([{ id: "a" }]));
    const { attempt, dispatch } = h.instance("a");
    const running = {
      type: "task_result",
      key: "a",
      attempt,
      dispatch,
      outcome: { status: "running" },
    } as const;
    expect(h.send({ ...running, key: "ghost[3]" }).kind).toBe("ignored");
    expect(h.send(running).kind).toBe("applied");
    expect(h.send(running).kind).toBe("ignored");
  });

  it("ignores a timer delivered twice", () => {
    const h = new Harness(pipeline([{ id: "a", retries: 1, retry_delay: "1s" }]));
    h.fail("a", true);
    const timer = h.timers.get("task:a");
    if (!timer) throw new Error("no retry timer");
    h.fire("a");
    expect(h.send({ type: "timer", timer: timer.timer }).kind).toBe("ignored");
  });

  it("puts back a retry timer that fires before the retry is due", () => {
    const h = new Harness(pipeline([{ id: "a", retries: 1, retry_delay: "1m" }]));
    h.fail("a", true);
    const timer = h.timers.get("task:a");
    if (!timer) throw new Error("no retry timer");
    h.send({ type: "timer", timer: timer.timer });
    expect(h.of("set_timer")).toEqual([timer]);
    expect(h.status("a")).toBe("up_for_retry");
  });

  it("ignores a stale run timeout after the run was reopened", () => {
    const h = new Harness(pipeline([{ id: "a" }], { timeout: "1h" }));
    const first = h.timers.get("run");
    h.fail("a");
    h.now += 1_000;
    h.send({ type: "retry_task", task: "a" });
    if (!first) throw new Error("no run timer");
    expect(h.timers.get("run")?.at).toBe(h.now + 3_600_000);
    expect(h.send({ type: "timer", timer: first.timer }).kind).toBe("ignored");
  });
});
