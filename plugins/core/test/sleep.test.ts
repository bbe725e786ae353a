import { describe, expect, it } from "vitest";
import { invoke } from "./helpers.ts";

const startedAgo = (ms: number) => ({ task_started_at: new Date(Date.now() - ms).toISOString() });

describe("core/sleep", () => {
  it("answers waiting with the time left when the task started recently", async () => {
    const answer = await invoke("sleep", { duration: "5m" }, startedAgo(60_000));
    expect(answer.status).toBe(200);
    expect(answer.body.status).toBe("waiting");
    const left = Number(answer.body.retry_after_ms);
    expect(left).toBeGreaterThan(239_000);
    expect(left).toBeLessThanOrEqual(240_000);
  });

  it("waits the whole duration when the task starts in the future (clock skew)", async () => {
    const answer = await invoke("sleep", { duration: "10s" }, startedAgo(-5_000));
    expect(answer.body.status).toBe("waiting");
    expect(Number(answer.body.retry_after_ms)).toBeGreaterThan(10_000);
  });

  it("succeeds with the time slept once the duration has passed", async () => {
    const answer = await invoke("sleep", { duration: "30s" }, startedAgo(45_000));
    expect(answer.body.status).toBe("success");
    expect(answer.body.output).toEqual({ slept_ms: expect.any(Number) });
    expect((answer.body.output as { slept_ms: number }).slept_ms).toBeGreaterThanOrEqual(45_000);
  });

  it("fails without retry when the platform does not send task_started_at", async () => {
    const answer = await invoke("sleep", { duration: "1s" }, { task_started_at: undefined });
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
  });

  it("refuses a malformed or absurd duration", async () => {
    expect((await invoke("sleep", { duration: "five minutes" })).body.retryable).toBe(false);
    expect((await invoke("sleep", { duration: "400d" })).body).toMatchObject({
      status: "failure",
      retryable: false,
    });
  });
});
