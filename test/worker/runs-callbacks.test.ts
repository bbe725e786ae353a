/** Long-running operators (202 + callback) and max_active_runs, driven through the API and the DO. */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { expectProblem } from "./helpers";
import { task, withPipeline } from "./runs-helpers";

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
    // No core operator answers 202, so put the instance where a 202 would have left it.
    const token = await runInDurableObject(stub, (instance, state) => {
      const sql = state.storage.sql;
      const row = sql.exec<{ state: string }>("SELECT state FROM runs WHERE id = ?", run.id).one();
      const saved = JSON.parse(row.state);
      const nap = saved.tasks.nap.instances[0];
      saved.tasks.nap.instances[0] = { ...nap, status: "running", deadline_at: null };
      delete saved.tasks.nap.instances[0].due_at;
      sql.exec("UPDATE runs SET state = ? WHERE id = ?", JSON.stringify(saved), run.id);
      instance.forgetCachedState();
      const token = `cb_${state.id.toString()}_${"x".repeat(32)}`;
      sql.exec(
        "INSERT INTO callbacks (token, run, key, attempt, dispatch) VALUES (?, ?, 'nap', ?, ?)",
        token,
        run.id,
        nap.attempt,
        nap.dispatch,
      );
      return token;
    });
    const body = { status: "success", output: { slept_ms: 5 } };
    const first = await owner.json("POST", `/api/callbacks/${token}`, { body });
    expect(first.status).toBe(200);
    const after = await detail(run.id);
    expect(after.status).toBe("success");
    expect(task(after, "nap")).toMatchObject({ status: "success", output: { slept_ms: 5 } });
    expectProblem(await owner.json("POST", `/api/callbacks/${token}`, { body }), 404);
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
