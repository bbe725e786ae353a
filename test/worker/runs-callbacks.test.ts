/** Long-running operators (202 + callback) and max_active_runs, driven through the API and the DO. */
import { afterEach, describe, expect, it, vi } from "vitest";
import { expectProblem } from "./helpers";
import { asIfAccepted, task, withPipeline } from "./runs-helpers";

const sleeper = (extra: object = {}) => ({
  name: "Sleeper",
  ...extra,
  tasks: [{ id: "nap", uses: "core/sleep@^1", with: { duration: "1h" } }],
});

afterEach(() => {
  vi.useRealTimers();
});

describe("run callbacks, timeouts and concurrency", () => {
  it("accepts the first callback for a running task and refuses a second one", async () => {
    const { owner, stub, start, detail } = await withPipeline(sleeper());
    const run = await start();
    const token = await asIfAccepted(stub, run.id, "nap");
    const body = { status: "success", output: { slept_ms: 5 } };
    const first = await owner.json("POST", `/api/callbacks/${token}`, { body });
    expect(first.status).toBe(200);
    const after = await detail(run.id);
    expect(after.status).toBe("success");
    expect(task(after, "nap")).toMatchObject({ status: "success", output: { slept_ms: 5 } });
    expectProblem(await owner.json("POST", `/api/callbacks/${token}`, { body }), 404);
  });

  it("refuses a late callback, for an attempt that no longer waits, and changes nothing", async () => {
    const { owner, base, stub, start, detail } = await withPipeline(sleeper());
    const run = await start();
    const token = await asIfAccepted(stub, run.id, "nap");
    expect((await owner.json("POST", `${base}/runs/${run.id}/cancel`)).status).toBe(200);
    const cancelled = await detail(run.id);
    const body = { status: "success", output: { slept_ms: 5 } };
    const late = await owner.json("POST", `/api/callbacks/${token}`, { body });
    expectProblem(late, 404);
    expect(await detail(run.id)).toEqual(cancelled);
    expect(task(cancelled, "nap").status).toBe("cancelled");
  });

  it("keeps runs queued beyond max_active_runs and starts the next when one finishes", async () => {
    const { owner, base, start, detail } = await withPipeline(
      sleeper({ concurrency: { max_active_runs: 1 } }),
    );
    const first = await start();
    const second = await start();
    expect(first.status).toBe("running");
    expect(second.status).toBe("queued");
    expect((await owner.json("POST", `${base}/runs/${first.id}/cancel`)).status).toBe(200);
    const next = await detail(second.id);
    expect(next.status).toBe("running");
    expect(task(next, "nap").status).toBe("waiting");
  });

  it("fails a run that outlives its timeout once the alarm runs, cancelling what is unfinished", async () => {
    const { start, detail, alarm } = await withPipeline(sleeper({ timeout: "1m" }));
    const run = await start();
    expect(task(run, "nap").status).toBe("waiting");
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 61_000 });
    await alarm();
    const after = await detail(run.id);
    expect(after.status).toBe("failed");
    expect(task(after, "nap").status).toBe("cancelled");
  });
});
