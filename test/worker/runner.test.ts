/** The runner against the real core plugin Worker (service binding) and a plugin that misbehaves. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { invokeOperator } from "../../worker/runner/invoke";
import { serviceTransport } from "../../worker/runner/transport";
import { invocation } from "./invocations";

const core = serviceTransport("core", env.PLUGIN_CORE);
const misbehaving = serviceTransport("misbehaving", env.MISBEHAVING_PLUGIN);

const options = { signingKey: env.SIGNING_KEY };

describe("runner → core plugin over a service binding", () => {
  it("signs an invocation the plugin accepts and returns its output", async () => {
    const outcome = await invokeOperator(core, "noop", invocation({ value: { hello: "world" } }), options);
    expect(outcome).toMatchObject({ kind: "success" });
  });

  it("maps a plugin's non-retryable failure", async () => {
    const outcome = await invokeOperator(
      core,
      "fail",
      invocation({ message: "nope", retryable: false }),
      options,
    );
    expect(outcome).toMatchObject({
      kind: "failure",
      error: { kind: "plugin_error", message: expect.stringContaining("nope") },
      retryable: false,
    });
  });

  it("maps input the operator's schema refuses to input_invalid", async () => {
    const outcome = await invokeOperator(core, "sleep", invocation({ duration: 42 }), options);
    expect(outcome).toMatchObject({
      kind: "failure",
      error: { kind: "input_invalid", message: expect.stringContaining("input.duration") },
      retryable: false,
    });
  });

  it("maps the plugin's own deadline answer to a timeout", async () => {
    // The platform's clock runs 10 s behind: the deadline it sets has passed when the plugin reads it.
    const past = new Date(Date.now() - 1_000).toISOString();
    const outcome = await invokeOperator(core, "noop", invocation({}, { deadline: past }), {
      ...options,
      now: () => new Date(Date.now() - 10_000),
    });
    expect(outcome).toMatchObject({
      kind: "failure",
      error: { kind: "timeout", message: "the deadline passed before the call" },
      retryable: true,
    });
  });

  it("maps a sensor's waiting answer", async () => {
    const outcome = await invokeOperator(core, "sleep", invocation({ duration: "1h" }), options);
    expect(outcome).toMatchObject({ kind: "waiting", retryAfterMs: expect.any(Number) });
  });

  it("is refused by the plugin when signed with another key, as a retryable error", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
    const stranger = JSON.stringify({ kty: "OKP", crv: "Ed25519", x: jwk.x, d: jwk.d, kid: "stranger" });
    const outcome = await invokeOperator(core, "noop", invocation({}), { signingKey: stranger });
    expect(outcome).toMatchObject({
      kind: "failure",
      retryable: true,
      error: { kind: "protocol_error", message: expect.stringContaining("401") },
    });
  });
});

describe("runner → an operator the plugin does not have", () => {
  it("fails without retrying: no attempt can make it exist", async () => {
    const outcome = await invokeOperator(core, "teleport", invocation({}), options);
    expect(outcome).toMatchObject({
      kind: "failure",
      retryable: false,
      error: { kind: "protocol_error", message: expect.stringMatching(/no such operator \(404\)/) },
    });
  });
});

describe("runner → a plugin that gets the protocol wrong", () => {
  const cases: [string, RegExp][] = [
    ["not-json", /not JSON/],
    ["wrong-shape", /not a protocol v1 result/],
    ["server-error", /500/],
    ["huge", /bytes/],
    ["running-with-200", /refused|200/],
  ];
  for (const [operator, message] of cases) {
    it(`turns "${operator}" into a retryable protocol_error with a clear message`, async () => {
      const outcome = await invokeOperator(misbehaving, operator, invocation({}), options);
      expect(outcome).toMatchObject({
        kind: "failure",
        retryable: true,
        error: { kind: "protocol_error", message: expect.stringMatching(message) },
      });
    });
  }

  it("honours 429 with Retry-After, keeping the plugin's reason", async () => {
    const outcome = await invokeOperator(misbehaving, "backoff", invocation({}), options);
    expect(outcome).toMatchObject({ kind: "failure", retryable: true, retryAfterMs: 7000 });
    expect(outcome).toMatchObject({
      error: { kind: "plugin_error", message: "misbehaving (service binding) asked to back off (429): busy" },
    });
  });

  it("gives up on a plugin that never answers at the deadline", async () => {
    const deadline = new Date(Date.now() + 200).toISOString();
    const outcome = await invokeOperator(misbehaving, "hang", invocation({}, { deadline }), options);
    expect(outcome).toMatchObject({
      kind: "failure",
      retryable: true,
      error: { kind: "timeout", message: expect.stringMatching(/did not answer/) },
    });
  });

  it("sends Standard Webhooks signature headers with the key id", async () => {
    const outcome = await invokeOperator(misbehaving, "echo-headers", invocation({}), options);
    if (outcome.kind !== "success") throw new Error(`unexpected ${outcome.kind}`);
    const headers = outcome.output as Record<string, string>;
    expect(headers["webhook-id"]).toMatch(/^msg_/);
    expect(headers["webhook-timestamp"]).toMatch(/^\d{10}$/);
    expect(headers["webhook-signature"]).toMatch(/^v1a,[A-Za-z0-9+/]{86}==$/);
    expect(headers["webhook-key-id"]).toBe(JSON.parse(env.SIGNING_KEY).kid);
  });
});
