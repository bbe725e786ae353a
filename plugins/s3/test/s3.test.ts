import { env } from "cloudflare:workers";
import { NonRetriableError, RetryAfterError } from "@updraft/plugin-sdk";
import { AwsClient } from "aws4fetch";
import { describe, expect, it } from "vitest";
import { invoke, signedPost } from "../../core/test/helpers.ts";
import { raiseFor } from "../src/answers.ts";
import { storeFor } from "../src/connection.ts";

const SECRET = "S3RVER";
const connection = (extra: Record<string, unknown> = {}) => ({
  endpoint: env.S3_ENDPOINT,
  region: "us-east-1",
  bucket: "updraft-test",
  access_key_id: "S3RVER",
  secret_access_key: SECRET,
  ...extra,
});
const call = (operator: string, input: unknown, extra: Record<string, unknown> = {}) =>
  invoke(operator, input, { connection: connection(extra) });
const unique = (label: string) => `${label}-${crypto.randomUUID()}`;

describe("s3 against s3rver", () => {
  it("puts, gets, lists and deletes an object; a missing key fails without retry or answers found: false", async () => {
    const prefix = unique("reports");
    const key = `${prefix}/day one.csv`;
    const put = await call("put-object", { key, body: "id,amount\n1,2.5\n", content_type: "text/csv" });
    expect(put.body).toMatchObject({ status: "success", output: { key, size: 16 } });
    const got = await call("get-object", { key });
    expect(got.body.output).toMatchObject({
      found: true,
      body: "id,amount\n1,2.5\n",
      content_type: "text/csv",
    });
    await call("put-object", { key: `${prefix}/day two.csv`, body: "x" });
    const listed = await call("list-objects", { prefix: `${prefix}/` });
    const objects = (listed.body.output as { objects: Array<{ key: string; size: number }> }).objects;
    expect(objects.map((o) => [o.key, o.size])).toEqual([
      [`${prefix}/day one.csv`, 16],
      [`${prefix}/day two.csv`, 1],
    ]);
    expect((await call("delete-object", { key })).body).toMatchObject({ status: "success" });
    // Deleting again is harmless (a retried attempt).
    expect((await call("delete-object", { key })).body).toMatchObject({ status: "success" });
    const missing = await call("get-object", { key });
    expect(missing.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(missing.body.error)).toContain("NoSuchKey");
    const tolerated = await call("get-object", { key, missing_ok: true });
    expect(tolerated.body.output).toMatchObject({ found: false });
  });

  it("round-trips JSON and bytes, and keys with odd characters", async () => {
    const key = unique("odd/ä ü+&=?#%!'()*[]{}$@;,~ name.json");
    await call("put-object", { key, json: { rows: [1, 2], ok: true } });
    expect((await call("get-object", { key, as: "json" })).body.output).toMatchObject({
      body: { rows: [1, 2], ok: true },
      content_type: "application/json",
    });
    const bytes = btoa(String.fromCharCode(0, 255, 1, 254, 10));
    const binary = unique("bytes.bin");
    await call("put-object", { key: binary, body_base64: bytes });
    expect((await call("get-object", { key: binary, as: "base64" })).body.output).toMatchObject({
      body: bytes,
    });
    const listed = await call("list-objects", { prefix: key });
    expect((listed.body.output as { objects: Array<{ key: string }> }).objects.map((o) => o.key)).toEqual([
      key,
    ]);
  });

  it("answers an object over 1 MiB by a pre-signed URL that fetches it", async () => {
    const key = unique("big.txt");
    const big = "x".repeat(1024 * 1024 + 10);
    const direct = new AwsClient({
      accessKeyId: "S3RVER",
      secretAccessKey: SECRET,
      service: "s3",
      region: "us-east-1",
    });
    const put = await direct.fetch(`${env.S3_ENDPOINT}/updraft-test/${key}`, { method: "PUT", body: big });
    expect(put.status).toBe(200);
    const answer = await call("get-object", { key });
    const output = answer.body.output as { url?: string; body?: unknown; size: number };
    expect(output.body).toBeUndefined();
    expect(output.size).toBe(big.length);
    const fetched = await fetch(output.url ?? "");
    expect((await fetched.text()).length).toBe(big.length);
    // And back in by reference: streamed from that link into another key.
    const copy = unique("copy.txt");
    const copied = await call("put-object", { key: copy, source_url: output.url });
    expect(copied.body).toMatchObject({ status: "success", output: { key: copy, size: big.length } });
    expect((await call("get-object", { key: copy })).body.output).toMatchObject({ size: big.length });
    const gone = await call("put-object", {
      key: copy,
      source_url: `${env.S3_ENDPOINT}/updraft-test/nothing-here`,
    });
    expect(gone.body).toMatchObject({ status: "failure", retryable: false });
  });

  it("pages a listing with a continuation token", async () => {
    const prefix = unique("paged");
    for (const n of [1, 2, 3]) await call("put-object", { key: `${prefix}/${n}`, body: String(n) });
    const first = (await call("list-objects", { prefix, max_keys: 2 })).body.output as {
      objects: unknown[];
      truncated: boolean;
      next_token: string | null;
    };
    expect(first, JSON.stringify(first)).toMatchObject({ truncated: true });
    expect(first.objects).toHaveLength(2);
    const second = (await call("list-objects", { prefix, max_keys: 2, continuation_token: first.next_token }))
      .body.output as { objects: Array<{ key: string }>; truncated: boolean };
    expect(second.objects.map((o) => o.key)).toEqual([`${prefix}/3`]);
    expect(second.truncated).toBe(false);
  });

  it("fails without retry on wrong keys or a missing bucket, never showing the secret", async () => {
    const canary = "canary-secret-0123456789";
    // s3rver checks the key id (real S3 also the signature: SignatureDoesNotMatch, mapped the same way).
    const wrong = await call(
      "put-object",
      { key: "a", body: "x" },
      { access_key_id: "nobody", secret_access_key: canary },
    );
    expect(wrong.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(wrong.body.error)).toMatch(/SignatureDoesNotMatch|InvalidAccessKeyId|AccessDenied/);
    expect(JSON.stringify(wrong.body)).not.toContain(canary);
    const nobucket = await call("list-objects", {}, { bucket: "no-such-bucket-here" });
    expect(nobucket.body).toMatchObject({ status: "failure", retryable: false });
    expect(String(nobucket.body.error)).toContain("NoSuchBucket");
  });

  it("retries an unreachable store, and maps 503/SlowDown to a back-off and 500 to a retry", async () => {
    const down = await call("list-objects", {}, { endpoint: "http://127.0.0.1:1" });
    expect(down.body).toMatchObject({ status: "failure", retryable: true });
    const slow = new Response("<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>", {
      status: 503,
      headers: { "retry-after": "7" },
    });
    await expect(raiseFor(slow, "put-object a")).rejects.toThrow(RetryAfterError);
    const broken = raiseFor(
      new Response("<Error><Code>InternalError</Code></Error>", { status: 500 }),
      "get",
    );
    await expect(broken).rejects.toThrow(/S3 answered 500 InternalError/);
    await expect(broken).rejects.not.toThrow(NonRetriableError);
  });

  it("refuses private endpoints and plain HTTP in production", () => {
    const production = { UPDRAFT_ALLOW_PRIVATE_NETWORK: "false" };
    expect(() => storeFor(connection(), production)).toThrow(NonRetriableError);
    expect(() => storeFor(connection({ endpoint: "https://169.254.169.254" }), production)).toThrow(
      /refusing/,
    );
  });

  it("tests the connection: ok with the right keys, a reason without", async () => {
    const good = await signedPost("/connection/test", { connection: connection() });
    expect(good.body, JSON.stringify(good.body)).toMatchObject({ ok: true });
    const bad = await signedPost("/connection/test", { connection: connection({ access_key_id: "nobody" }) });
    expect(bad.body).toMatchObject({ ok: false });
    expect(String(bad.body.detail)).toMatch(/InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied/);
  });
});
