/** Task logs stay within MAX_LOG_LINES_PER_ATTEMPT per attempt, however the lines arrive (property). */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AttemptLines, MAX_LOG_LINES_PER_ATTEMPT, Records } from "../../worker/pipeline/records";

const line = (n: number) => ({
  at: "2030-01-01T00:00:00.000Z",
  level: "info" as const,
  message: `line ${n}`,
});

const batches = fc.array(
  fc.array(
    fc.record({
      key: fc.constantFrom("a", "b", "each[0]", "each[1]"),
      attempt: fc.integer({ min: 1, max: 2 }),
      lines: fc.integer({ min: 0, max: 150 }),
    }),
    { maxLength: 6 },
  ),
  { maxLength: 6 },
);

describe("task logs", () => {
  it("keeps the first lines of each attempt up to the bound, in order, across transitions", async () => {
    const stub = env.PIPELINE.get(env.PIPELINE.idFromName("logs-property"));
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const records = new Records(sql);
      let runNo = 0;
      fc.assert(
        fc.property(batches, (transitions) => {
          const run = `run_${++runNo}`;
          const sent = new Map<string, number>();
          for (const entries of transitions) {
            const withLines: AttemptLines[] = entries.map(({ key, attempt, lines }) => {
              const id = `${key} ${attempt}`;
              const from = sent.get(id) ?? 0;
              sent.set(id, from + lines);
              return { key, attempt, lines: Array.from({ length: lines }, (_, i) => line(from + i)) };
            });
            records.logAll(run, withLines, 0);
          }
          for (const [id, total] of sent) {
            const [key, attempt] = id.split(" ");
            const kept = sql
              .exec<{ message: string }>(
                "SELECT message FROM logs WHERE run = ? AND key = ? AND attempt = ? ORDER BY seq",
                run,
                key,
                Number(attempt),
              )
              .toArray()
              .map((r) => r.message);
            const expected = Array.from(
              { length: Math.min(total, MAX_LOG_LINES_PER_ATTEMPT) },
              (_, i) => line(i).message,
            );
            expect(kept).toEqual(expected);
          }
        }),
        { numRuns: 40 },
      );
    });
  });
});
