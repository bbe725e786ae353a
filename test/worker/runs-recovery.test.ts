/** A PipelineDO that was evicted mid-run picks up the work nothing else would answer. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { Driver } from "../../worker/pipeline/driver";
import { task, withPipeline } from "./runs-helpers";

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
    await runInDurableObject(stub, async (_instance, state) => {
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
    });
    const after = await detail(run.id);
    expect(after.status).toBe("success");
    expect([task(after, "each", 0).output, task(after, "each", 1).output]).toEqual([
      { value: "x" },
      { value: "y" },
    ]);
  });
});
