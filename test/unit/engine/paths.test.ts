/** The template fast path answers exactly as JSONata does whenever it answers at all. */
import fc from "fast-check";
import jsonata from "jsonata";
import { describe, expect, it } from "vitest";
import { readSimplePath } from "../../../worker/engine/paths";
import { evaluate } from "../../../worker/engine/render";

/** Field names, with a JSONata keyword and two names every object inherits among them. */
const NAMES = ["a", "b", "item", "run", "id", "output", "x_1", "and", "length", "constructor"];
const name = fc.constantFrom(...NAMES);
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    { arbitrary: fc.constantFrom(null, true, false, 0, 1.5, "", "text"), weight: 2 },
    { arbitrary: fc.array(tie("value"), { maxLength: 3 }), weight: 1 },
    { arbitrary: fc.dictionary(name, tie("value"), { minKeys: 1, maxKeys: 4 }), weight: 3 },
  ),
})).value;
const scope = fc.dictionary(name, json, { minKeys: 1, maxKeys: 5 });

/** A path that mostly follows the data's own keys (so most paths find a value), sometimes not. */
function pathInto(data: unknown, choices: number[]): string {
  const names: string[] = [];
  let at = data;
  for (const choice of choices) {
    const keys = typeof at === "object" && at !== null && !Array.isArray(at) ? Object.keys(at) : [];
    const key =
      keys.length > 0 && choice % 5 !== 0 ? keys[choice % keys.length] : NAMES[choice % NAMES.length];
    names.push(key ?? "a");
    at = typeof at === "object" && at !== null ? (at as Record<string, unknown>)[key ?? "a"] : undefined;
  }
  return names.join(".");
}

const scoped = scope.chain((data) =>
  fc
    .array(fc.nat(), { minLength: 1, maxLength: 4 })
    .map((choices) => ({ data, expr: pathInto(data, choices) })),
);

const viaJsonata = async (expr: string, data: object) => {
  const value = await jsonata(expr).evaluate(data, {});
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
};

describe("readSimplePath", () => {
  it("agrees with JSONata on every path it reads", async () => {
    await fc.assert(
      fc.asyncProperty(scoped, async ({ data, expr }) => {
        const read = readSimplePath(expr, data);
        if (read === null) return;
        expect(read.value === undefined ? undefined : JSON.parse(JSON.stringify(read.value))).toEqual(
          await viaJsonata(expr, data),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it("takes the common template paths and leaves everything else to JSONata", () => {
    const data = { run: { id: "run_1" }, item: 3, tasks: { a: { output: { list: [1, 2] } } } };
    expect(readSimplePath("run.id", data)).toEqual({ value: "run_1" });
    expect(readSimplePath(" item ", data)).toEqual({ value: 3 });
    expect(readSimplePath("run.missing", data)).toEqual({ value: undefined });
    expect(readSimplePath("tasks.a.output.list", data)).toBeNull();
    expect(readSimplePath("run.id & 'x'", data)).toBeNull();
    expect(readSimplePath("$string(item)", data)).toBeNull();
    expect(readSimplePath("run.and", data)).toBeNull();
  });

  it("hands out a copy, so a rendered input cannot change a cached output", async () => {
    const output = { nested: { n: 1 } };
    const scope = { params: {}, trigger: null, tasks: { a: { output } }, run: { id: "r" } } as never;
    const value = (await evaluate("tasks.a.output", scope)) as typeof output;
    expect(value).toEqual(output);
    expect(value).not.toBe(output);
  });
});
