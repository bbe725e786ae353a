/** max_active_tasks is pipeline-wide: a run gets the slots the pipeline's other runs leave free. */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { task, withPipeline } from "./runs-helpers";

const spec = {
  name: "Two slots",
  concurrency: { max_active_tasks: 2 },
  tasks: [
    { id: "x", uses: "core/noop@^1", with: { value: "x" } },
    { id: "y", uses: "core/noop@^1", with: { value: "y" } },
  ],
};

describe("pipeline-wide max_active_tasks", () => {
  it("holds a second run's tasks while the first run uses every slot, and starts them as slots free", async () => {
    const { owner, base, stub, start, detail } = await withPipeline(spec);
    const first = await start();
    // Put the first run back to "both tasks accepted by their plugin (202)": they hold both slots.
    const tokens = await runInDurableObject(stub, (instance, state) => {
      const sql = state.storage.sql;
      const saved = JSON.parse(
        sql.exec<{ state: string }>("SELECT state FROM runs WHERE id = ?", first.id).one().state,
      );
      saved.status = "running";
      saved.ended_at = null;
      const tokens: Record<string, string> = {};
      for (const id of ["x", "y"]) {
        const instance = saved.tasks[id].instances[0];
        saved.tasks[id].instances[0] = {
          ...instance,
          status: "running",
          deadline_at: null,
          output_ref: undefined,
          ended_at: null,
        };
        tokens[id] = `cb_${state.id.toString()}_${id.repeat(32)}`;
        sql.exec(
          "INSERT INTO callbacks (token, run, key, attempt, dispatch) VALUES (?, ?, ?, ?, ?)",
          tokens[id],
          first.id,
          id,
          instance.attempt,
          instance.dispatch,
        );
      }
      sql.exec("UPDATE runs SET status = 'running', state = ? WHERE id = ?", JSON.stringify(saved), first.id);
      instance.forgetCachedState();
      return tokens;
    });

    const second = await owner.json<{ id: string }>("POST", `${base}/runs`, { body: {} });
    expect(second.status).toBe(201);
    const waiting = await detail(second.body.id);
    expect(waiting.status).toBe("running");
    expect(waiting.tasks.map((t) => t.status)).toEqual(["pending", "pending"]);

    // One slot frees: the second run gets it at once (and then the other, as its own task ends).
    const answered = await owner.json("POST", `/api/callbacks/${tokens.x}`, {
      body: { status: "success", output: { value: "x" } },
    });
    expect(answered.status).toBe(200);
    const done = await detail(second.body.id);
    expect(done.status).toBe("success");
    expect(task(done, "y").output).toEqual({ value: "y" });

    await owner.json("POST", `/api/callbacks/${tokens.y}`, { body: { status: "success", output: {} } });
    expect((await detail(first.id)).status).toBe("success");
  });
});
