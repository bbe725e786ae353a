/**
 * Every expression the platform evaluates runs under the one bounded evaluator (plugins/sdk/src/expression.ts):
 * a hostile `with`, `when` or `for_each` fails its task at once, without retries, with an error that says
 * which budget ran out; the object stays free for the next run; an over-long `for_each` list fails its
 * task instead of leaving the run pending.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { HOSTILE_EXPRESSIONS } from "../../plugins/sdk/test/hostile-expressions";
import { MAX_FOR_EACH_ITEMS } from "../../worker/engine";
import { withPipeline } from "./runs-helpers";

const HOSTILE = HOSTILE_EXPRESSIONS;

const spec = (task: object) => ({
  name: "Hostile",
  defaults: { retries: 3, retry_delay: "1s" },
  tasks: [
    { id: "t", uses: "core/noop@^1", ...task },
    { id: "after", uses: "core/noop@^1" },
  ],
});

/** What the API shows for a task an expression failed: its kind, and a message that says why. */
const expressionError = (says: RegExp) => ({
  kind: "expression_error",
  message: expect.stringMatching(says),
});

async function failedFast(task: object) {
  const pipeline = await withPipeline(spec(task));
  const started = Date.now();
  const run = await pipeline.start();
  const ms = Date.now() - started;
  const row = run.tasks.find((t) => t.id === "t");
  return { pipeline, run, row, ms };
}

describe("hostile expressions fail their task fast and for good", () => {
  it.each(HOSTILE)("in `with`: %s", async (_label, expr, says) => {
    const { run, row, ms, pipeline } = await failedFast({ with: { value: `{{ ${expr} }}` } });
    expect(row?.status).toBe("failed");
    expect(row?.attempts).toBe(1); // not retried: the same expression fails the same way
    expect(row?.error).toEqual(expressionError(says));
    expect(ms).toBeLessThan(5_000);
    expect(run.tasks.find((t) => t.id === "after")?.status).toBe("success");
    // Nothing is left for the clock to re-run into a loop.
    await pipeline.alarm();
    expect((await pipeline.detail(run.id)).tasks.find((t) => t.id === "t")?.attempts).toBe(1);
  });

  it("in `when` and in `for_each`", async () => {
    const loop = "($f := function($n) { $f($n + 1) }; $f(0))";
    const when = await failedFast({ when: `{{ ${loop} }}` });
    expect(when.row?.status).toBe("failed");
    expect(when.row?.error).toEqual(expressionError(/when failed: .*steps/));
    const forEach = await failedFast({ for_each: "{{ [1..1e9] }}" });
    expect(forEach.row?.status).toBe("failed");
    expect(forEach.row?.error).toEqual(expressionError(/for_each failed/));
  });

  it("several expressions of one task share one step budget", async () => {
    // Each evaluation stays under its own limit (200,000 steps); together they pass the task's 400,000.
    const heavy = "{{ $count([1..15000].($ + 1)) }}";
    const { row } = await failedFast({ with: { list: Array.from({ length: 9 }, () => heavy) } });
    expect(row?.status).toBe("failed");
    expect(row?.error).toEqual(expressionError(/ran out of steps/));
  });

  it("the object answers the next run normally after a hostile one", async () => {
    const { pipeline, row } = await failedFast({ with: { v: "{{ $pad('', 500000000) }}" } });
    expect(row?.status).toBe("failed");
    const again = await pipeline.start();
    expect(again.tasks.find((t) => t.id === "after")?.status).toBe("success");
  });
});

describe("for_each lists are bounded", () => {
  it(`a list of more than ${MAX_FOR_EACH_ITEMS} items fails the task at once`, async () => {
    const { run, row } = await failedFast({ for_each: `{{ [1..${MAX_FOR_EACH_ITEMS + 1}] }}` });
    expect(row?.status).toBe("failed");
    expect(row?.error).toEqual(
      expressionError(new RegExp(`produced ${MAX_FOR_EACH_ITEMS + 1} items; a task maps over at most`)),
    );
    expect(run.status).toBe("failed");
  });

  it("a list far over the limit is refused before it is stored", async () => {
    const { run, row, pipeline } = await failedFast({ for_each: "{{ [1..90000] }}" });
    expect(row?.error).toEqual(expressionError(/produced 90000 items/));
    expect(run.status).toBe("failed");
    const blobs = await runInDurableObject(
      pipeline.stub,
      (_instance, state) =>
        state.storage.sql
          .exec<{ n: number }>("SELECT COUNT(*) AS n FROM blobs WHERE ref LIKE 'items:%'")
          .one().n,
    );
    expect(blobs).toBe(0);
  });

  it("a list over the byte limit fails the task at once", async () => {
    const { run, row } = await failedFast({ for_each: "{{ [1..110].$pad('', 10000) }}" });
    expect(row?.status).toBe("failed");
    expect(row?.error).toEqual(expressionError(/bytes; at most/));
    expect(run.status).toBe("failed");
  });

  it(`exactly ${MAX_FOR_EACH_ITEMS} items still map`, async () => {
    const { row, run } = await failedFast({ for_each: `{{ [1..${MAX_FOR_EACH_ITEMS}] }}` });
    expect(row).toBeDefined();
    expect(run.tasks.filter((t) => t.id === "t" && t.status === "success")).toHaveLength(MAX_FOR_EACH_ITEMS);
  });
});
