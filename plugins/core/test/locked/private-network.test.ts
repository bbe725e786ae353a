/**
 * Production defaults (wrangler.toml): the private-network switch off, and the platform's keys
 * fetched through the PLATFORM service binding instead of an inline JWKS.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { invoke, signedPost } from "../helpers.ts";

describe("with UPDRAFT_ALLOW_PRIVATE_NETWORK off", () => {
  it("refuses the local target that the default project reaches", async () => {
    const answer = await invoke("http", { url: `${env.TARGET_ORIGIN}/echo` });
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(answer.body.error)).toContain("loopback");
  });

  it.each([
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[::ffff:7f00:1]/",
    "http://2130706433/",
    "http://localhost/",
  ])("refuses %s without retry", async (url) => {
    const answer = await invoke("http", { url });
    expect(answer.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(answer.body.error)).toContain("refusing to fetch");
  });
});

describe("keys from the PLATFORM service binding", () => {
  it("accepts requests signed with the key the binding publishes", async () => {
    const answer = await invoke("noop", { value: "via binding" });
    expect(answer.body).toEqual({ status: "success", output: { value: "via binding" } });
  });

  it("refuses a key the binding does not publish", async () => {
    const answer = await signedPost("/operators/noop", {}, { jwk: env.TEST_STRANGER_JWK });
    expect(answer.status).toBe(401);
  });
});
