import { describe, expect, it } from "vitest";
import { Harness, pipeline } from "./helpers";

const chain = () => pipeline([{ id: "a" }, { id: "b", needs: ["a"] }, { id: "c", needs: ["b"] }]);

describe("start", () => {
  it("creates runs queued, and does nothing until started", () => {
    const h = new Harness(chain(), { start: false });
    expect(h.state.status).toBe("queued");
    expect(h.send({ type: "tick" }).kind).toBe("ignored");
    h.send({ type: "start" });
    expect(h.state.status).toBe("running");
    expect(h.dispatched()).toEqual(["a"]);
  });

  it("refuses to start a run twice", () => {
    const h = new Harness(chain());
    expect(h.send({ type: "start" })).toEqual({
      kind: "rejected",
      rejected: "conflict",
      detail: "run is already running",
    });
  });
});

describe("cancel", () => {
  it("cancels the run and every unfinished instance, and clears their timers", () => {
    const h = new Harness(
      pipeline(
        [
          { id: "a", timeout: "1m" },
          { id: "b", needs: ["a"] },
        ],
        { timeout: "1h" },
      ),
    );
    h.send({ type: "cancel", reason: "by alice" });
    expect(h.state).toMatchObject({ status: "cancelled", error: "by alice", ended_at: h.now });
    expect([h.status("a"), h.status("b")]).toEqual(["cancelled", "cancelled"]);
    expect(
      h
        .of("clear_timer")
        .map((e) => e.id)
        .sort(),
    ).toEqual(["run", "task:a"]);
    expect(h.of("run_finished")).toEqual([{ type: "run_finished", status: "cancelled" }]);
  });

  it("dispatches nothing afterwards: late results and ticks change nothing", () => {
    const h = new Harness(chain());
    const { dispatch, attempt } = h.instance("a");
    h.send({ type: "cancel" });
    const late = {
      type: "task_result",
      key: "a",
      attempt,
      dispatch,
      outcome: { status: "success", output_ref: "x" },
    } as const;
    expect(h.send(late).kind).toBe("ignored");
    expect(h.send({ type: "tick" }).kind).toBe("ignored");
  });

  it("is a conflict on a finished or cancelled run", () => {
    const h = new Harness(pipeline([{ id: "a" }]));
    h.succeed("a");
    expect(h.send({ type: "cancel" })).toMatchObject({
      kind: "rejected",
      rejected: "conflict",
      detail: "run is already success",
    });
    const c = new Harness(pipeline([{ id: "a" }]));
    c.send({ type: "cancel" });
    expect(c.send({ type: "cancel" })).toMatchObject({ kind: "rejected", rejected: "conflict" });
  });
});
