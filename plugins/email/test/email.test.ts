import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { invoke, signedPost } from "../../core/test/helpers.ts";

const PROVIDERS = ["resend", "postmark", "sendgrid"] as const;
type Provider = (typeof PROVIDERS)[number];
const connection = (provider: Provider, extra: Record<string, unknown> = {}) => ({
  provider,
  api_key: "key-good",
  from: "robot@updraft.test",
  api_url: `${env.MAIL_ORIGIN}/${provider}`,
  ...extra,
});
const send = (provider: Provider, input: unknown, extra: Record<string, unknown> = {}, overrides = {}) =>
  invoke("send", input, { connection: connection(provider, extra), ...overrides });
const sent = async () =>
  (await (await fetch(`${env.MAIL_ORIGIN}/sent`)).json()) as Array<{
    provider: string;
    to: string[];
    subject: string;
    from: string;
  }>;

describe("email through each provider's wire format", () => {
  for (const provider of PROVIDERS) {
    it(`${provider}: sends, and a refused recipient fails without retry with the provider's reason`, async () => {
      const subject = `Report ${provider} ${crypto.randomUUID()}`;
      const ok = await send(provider, {
        to: ["ana@example.com", "bo@example.com"],
        subject,
        text: "Attached.",
      });
      expect(ok.body).toMatchObject({
        status: "success",
        output: { provider, to: ["ana@example.com", "bo@example.com"] },
      });
      expect((ok.body.output as { id: string }).id.length).toBeGreaterThan(0);
      expect((await sent()).find((m) => m.subject === subject)).toMatchObject({
        provider,
        to: ["ana@example.com", "bo@example.com"],
        from: "robot@updraft.test",
      });
      const bounced = await send(provider, { to: "bounce@invalid.test", subject: "x", html: "<p>x</p>" });
      expect(bounced.body).toMatchObject({ status: "failure", retryable: false });
      expect(String(bounced.body.error)).toMatch(/invalid|valid address/i);
    });

    it(`${provider}: a wrong key fails without retry and is never shown; the connection test says so`, async () => {
      const canary = `canary-${provider}-0123456789`;
      const denied = await send(
        provider,
        { to: "ana@example.com", subject: "x", text: "x" },
        { api_key: canary },
      );
      expect(denied.body).toMatchObject({ status: "failure", retryable: false });
      expect(JSON.stringify(denied.body)).not.toContain(canary);
      const good = await signedPost("/connection/test", { connection: connection(provider) });
      expect(good.body).toMatchObject({ ok: true });
      const bad = await signedPost("/connection/test", {
        connection: connection(provider, { api_key: canary }),
      });
      expect(bad.body).toMatchObject({ ok: false });
      expect(JSON.stringify(bad.body)).not.toContain(canary);
    });
  }

  it("turns a provider's 429 into a back-off (Retry-After, or SendGrid's reset time)", async () => {
    // Resend says Retry-After: 1; SendGrid's reset is about 2 s away (the 30 s fallback would fail both).
    for (const [provider, most] of [
      ["resend", 1_000],
      ["sendgrid", 3_000],
    ] as const) {
      const limited = await send(provider, { to: "busy@example.com", subject: "x", text: "x" });
      expect(limited.body, provider).toMatchObject({ status: "failure", retryable: true });
      expect(Number(limited.body.retry_after_ms)).toBeGreaterThanOrEqual(1_000);
      expect(Number(limited.body.retry_after_ms)).toBeLessThanOrEqual(most);
    }
  });

  it("sends a retried attempt to Resend with the same idempotency key, so it is delivered once", async () => {
    const subject = `Once ${crypto.randomUUID()}`;
    const key = `key-${crypto.randomUUID()}`;
    const first = await send(
      "resend",
      { to: "ana@example.com", subject, text: "x" },
      {},
      { idempotency_key: key },
    );
    const again = await send(
      "resend",
      { to: "ana@example.com", subject, text: "x" },
      {},
      { idempotency_key: key, attempt: 2 },
    );
    expect((again.body.output as { id: string }).id).toBe((first.body.output as { id: string }).id);
    expect((await sent()).filter((m) => m.subject === subject)).toHaveLength(1);
  });

  it("refuses bad addresses and a message without a body, and retries an unreachable provider", async () => {
    const bad = await send("resend", { to: "not an address", subject: "x", text: "x" });
    expect(bad.body).toMatchObject({ status: "failure", retryable: false });
    const empty = await send("resend", { to: "ana@example.com", subject: "x" });
    expect(empty.body).toMatchObject({ status: "failure", retryable: false });
    const down = await send(
      "postmark",
      { to: "ana@example.com", subject: "x", text: "x" },
      { api_url: "http://127.0.0.1:1" },
    );
    expect(down.body).toMatchObject({ status: "failure", retryable: true });
  });
});
