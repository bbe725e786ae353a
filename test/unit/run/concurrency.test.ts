import { describe, expect, it } from "vitest";
import { activeCount, blockedOnSlots } from "../../../worker/engine/index";
import { Harness, pipeline } from "./helpers";

const fan = (n: number, extra: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => ({ id: `t${i}`, ...extra }));

describe("max_active_tasks", () => {
  it("dispatches no more than the spec's cap and keeps the rest pending", () => {
    const h = new Harness(pipeline(fan(5), { concurrency: { max_active_tasks: 2 } }));
    expect(h.dispatched()).toEqual(["t0", "t1"]);
    expect(h.status("t2")).toBe("pending");
    expect(activeCount(h.state)).toBe(2);
    expect(blockedOnSlots(h.state, h.now)).toBe(3);
  });

  it("fills a freed slot in the same step that frees it", () => {
    const h = new Harness(pipeline(fan(3), { concurrency: { max_active_tasks: 2 } }));
    h.succeed("t0");
    expect(h.dispatched()).toEqual(["t2"]);
  });

  it("respects a smaller capacity passed by the DO for a pipeline-wide budget", () => {
    const h = new Harness(pipeline(fan(4), { concurrency: { max_active_tasks: 3 } }), { capacity: 1 });
    expect(h.dispatched()).toEqual(["t0"]);
    h.capacity = 3;
    h.send({ type: "tick" });
    expect(h.dispatched()).toEqual(["t1", "t2"]);
  });

  it("never preempts: a capacity below what is running only stops new dispatches", () => {
    const h = new Harness(pipeline(fan(3)), { capacity: 2 });
    h.capacity = 0;
    h.succeed("t0");
    expect(h.dispatched()).toEqual([]);
    expect(h.status("t1")).toBe("scheduled");
  });

  it("answers a tick with nothing to do as ignored, so the DO writes nothing", () => {
    const h = new Harness(pipeline(fan(1)));
    expect(h.send({ type: "tick" })).toEqual({ kind: "ignored", reason: "nothing to do" });
  });

  it("does not hold a slot for a waiting sensor", () => {
    const h = new Harness(
      pipeline([{ id: "sensor" }, { id: "work" }], { concurrency: { max_active_tasks: 1 } }),
    );
    expect(h.dispatched()).toEqual(["sensor"]);
    h.answer("sensor", { status: "waiting", retry_after_ms: 60_000 });
    expect(h.dispatched()).toEqual(["work"]);
    expect(h.timers.get("task:sensor")?.timer).toMatchObject({ reason: "poke", key: "sensor" });
  });

  it("re-pokes a sensor within the same attempt, once a slot is free", () => {
    const h = new Harness(pipeline([{ id: "sensor", retries: 0 }]));
    h.answer("sensor", { status: "waiting", retry_after_ms: 60_000 });
    h.fire("sensor");
    expect(h.dispatches()).toEqual([expect.objectContaining({ key: "sensor", attempt: 1, dispatch: 2 })]);
    h.answer("sensor", { status: "waiting", retry_after_ms: 60_000 });
    h.fire("sensor");
    h.succeed("sensor");
    expect(h.state.status).toBe("success");
  });

  it("starts due re-pokes and retries before fresh tasks when slots are scarce", () => {
    const h = new Harness(
      pipeline([{ id: "s" }, { id: "a" }, { id: "b" }], { concurrency: { max_active_tasks: 1 } }),
    );
    h.answer("s", { status: "waiting", retry_after_ms: 1_000 });
    expect(h.dispatched()).toEqual(["a"]);
    h.now += 5_000;
    h.succeed("a");
    expect(h.dispatched()).toEqual(["s"]);
  });

  it("counts scheduled and running instances alike", () => {
    const h = new Harness(pipeline(fan(3), { concurrency: { max_active_tasks: 2 } }));
    h.answer("t0", { status: "running" });
    expect(h.effects.some((e) => e.type === "dispatch")).toBe(false);
    expect(activeCount(h.state)).toBe(2);
  });
});
