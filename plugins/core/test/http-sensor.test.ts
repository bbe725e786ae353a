import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { invoke } from "./helpers.ts";

const target = (path: string) => `${env.TARGET_ORIGIN}${path}`;
const startedAgo = (ms: number) => ({ task_started_at: new Date(Date.now() - ms).toISOString() });
const exportUrl = (readyInMs: number) => target(`/export?ready_at=${Date.now() + readyInMs}`);

describe("core/http-sensor against a local target", () => {
  it("waits one poke interval while the condition is false, without failing", async () => {
    const answer = await invoke("http-sensor", {
      url: exportUrl(60_000),
      condition: 'body.state = "done"',
      poke_interval: "5s",
    });
    expect(answer.body).toMatchObject({ status: "waiting", retry_after_ms: 5_000 });
    expect(answer.body.logs).toEqual([
      expect.objectContaining({ message: expect.stringContaining("the condition is false") }),
    ]);
  });

  it("succeeds with the answer once the condition holds, and says how long it waited", async () => {
    const answer = await invoke(
      "http-sensor",
      { url: exportUrl(-1), condition: 'body.state = "done"' },
      startedAgo(90_000),
    );
    expect(answer.body.status).toBe("success");
    expect(answer.body.output).toMatchObject({ status: 200, body: { state: "done", rows: 3 } });
    expect((answer.body.output as { waited_ms: number }).waited_ms).toBeGreaterThanOrEqual(90_000);
  });

  it("keeps poking through 404, 503 and a refused connection; a listed status counts as ready", async () => {
    for (const url of [target("/status?code=404"), target("/status?code=503"), "http://127.0.0.1:1/"]) {
      const answer = await invoke("http-sensor", { url, poke_interval: "2s" });
      expect(answer.body, url).toMatchObject({ status: "waiting", retry_after_ms: 2_000 });
    }
    const accepted = await invoke("http-sensor", { url: target("/status?code=404"), status: [404] });
    expect(accepted.body).toMatchObject({ status: "success", output: { status: 404 } });
  });

  it("fails for good on 401/403, on a condition that is not boolean, and after its timeout", async () => {
    const denied = await invoke("http-sensor", { url: target("/status?code=401") });
    expect(denied.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(denied.body.error)).toContain("answered 401");
    const odd = await invoke("http-sensor", { url: exportUrl(-1), condition: "body.rows" });
    expect(odd.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(odd.body.error)).toContain("true or false");
    const late = await invoke(
      "http-sensor",
      { url: exportUrl(60_000), condition: 'body.state = "done"', timeout: "1m" },
      startedAgo(61_000),
    );
    expect(late.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(late.body.error)).toMatch(/not ready after 1m .*the condition is false/);
  });

  it("never waits past its timeout, and refuses a poke interval under 1s or a timeout over 7d", async () => {
    const near = await invoke(
      "http-sensor",
      { url: exportUrl(60_000), condition: 'body.state = "done"', timeout: "1m", poke_interval: "30s" },
      startedAgo(50_000),
    );
    expect(Number(near.body.retry_after_ms)).toBeLessThanOrEqual(10_000);
    const fast = await invoke("http-sensor", {
      url: exportUrl(60_000),
      condition: "false",
      poke_interval: "1ms",
    });
    expect(fast.body).toMatchObject({ status: "waiting", retry_after_ms: 1_000 });
    const long = await invoke("http-sensor", { url: exportUrl(0), timeout: "8d" });
    expect(long.body).toMatchObject({ status: "failure", retryable: false });
  });
});
