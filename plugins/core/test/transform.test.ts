import { describe, expect, it } from "vitest";
import { HOSTILE_EXPRESSIONS } from "../../sdk/test/hostile-expressions.ts";
import { invoke } from "./helpers.ts";

const context = {
  params: { channel: "#dev" },
  trigger: {
    body: {
      commits: [
        { id: "a1", message: "fix" },
        { id: "b2", message: "feat" },
      ],
    },
  },
  tasks: { fetch: { output: { count: 2 } } },
  run: { id: "run-1" },
  item: null,
};

const elapsed = async (work: () => Promise<unknown>) => {
  const started = performance.now();
  await work();
  return performance.now() - started;
};

describe("core/transform", () => {
  it("evaluates over the run context when no data is given", async () => {
    const answer = await invoke(
      "transform",
      { expression: "trigger.body.commits.{ 'id': id, 'msg': message }" },
      { context },
    );
    expect(answer.body).toEqual({
      status: "success",
      output: [
        { id: "a1", msg: "fix" },
        { id: "b2", msg: "feat" },
      ],
    });
  });

  it("reads params and upstream outputs from the context", async () => {
    const answer = await invoke(
      "transform",
      { expression: "params.channel & ' ' & $string(tasks.fetch.output.count)" },
      { context },
    );
    expect(answer.body.output).toBe("#dev 2");
  });

  it("evaluates over data when given, and returns the value itself", async () => {
    const answer = await invoke("transform", {
      expression: "$sum(price)",
      data: [{ price: 2 }, { price: 3.5 }],
    });
    expect(answer.body).toEqual({ status: "success", output: 5.5 });
  });

  it("returns null when the expression selects nothing", async () => {
    const answer = await invoke("transform", { expression: "missing.field", data: {} });
    expect(answer.body).toEqual({ status: "success", output: null });
  });

  it("reports a syntax error with its position, without retry", async () => {
    const answer = await invoke("transform", { expression: "items[", data: {} });
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(answer.body.error)).toMatch(/syntax error at position \d+/);
  });

  it("fails without retry when the result is a function", async () => {
    const answer = await invoke("transform", { expression: "function($x) { $x }", data: {} });
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
  });

  it.each(HOSTILE_EXPRESSIONS)("stops a hostile expression fast: %s", async (_label, expression, says) => {
    let body: Record<string, unknown> = {};
    const ms = await elapsed(async () => {
      body = (await invoke("transform", { expression, data: {} })).body;
    });
    expect(body).toMatchObject({ status: "failure", retryable: false });
    expect(String(body.error)).toMatch(says);
    expect(ms).toBeLessThan(3_000);
  });

  it("still runs ordinary regular expressions and sorts", async () => {
    const expression =
      "{ 'kv': $match(line, /^(\\w+) = (.*)$/).groups, 'sorted': $sort(n), 'has': $contains(line, /val(ue)?/) }";
    const answer = await invoke("transform", { expression, data: { line: "key = value", n: [3, 1, 2] } });
    expect(answer.body.output).toEqual({ kv: ["key", "value"], sorted: [1, 2, 3], has: true });
  });

  it("still runs ordinary work over a thousand items", async () => {
    const data = Array.from({ length: 1000 }, (_, i) => ({ id: i, even: i % 2 === 0 }));
    const answer = await invoke("transform", { expression: "$count($[even])", data });
    expect(answer.body.output).toBe(500);
  });
});
