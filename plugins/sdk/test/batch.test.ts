/** The service-binding batch (PROTOCOL.md §8): the same signed requests, answered line by line. */
import { describe, expect, it } from "vitest";
import { answerBatch, type BatchAnswer, signInvocation } from "../src/index.ts";
import { hello, invocation, keys, stranger } from "./fixtures.ts";

async function signed(
  operator: string,
  input: unknown,
  { jwk = keys.privateJwk, ...overrides }: { jwk?: JsonWebKey; deadline?: string; plugin?: string } = {},
) {
  const body = JSON.stringify(invocation(input, overrides));
  return { operator, headers: await signInvocation({ privateJwk: jwk, body }), body };
}

const host = {
  env: { UPDRAFT_JWKS: JSON.stringify(keys.jwks) },
  waitUntil: () => {},
  platformFetch: () => Promise.resolve(new Response(null, { status: 204 })),
};

/** Every line of the stream, with the time it arrived. */
async function read(stream: ReadableStream<Uint8Array>) {
  const started = Date.now();
  const lines: Array<{ at: number; answer: BatchAnswer }> = [];
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    for (let n = buffered.indexOf("\n"); n >= 0; n = buffered.indexOf("\n")) {
      lines.push({ at: Date.now() - started, answer: JSON.parse(buffered.slice(0, n)) });
      buffered = buffered.slice(n + 1);
    }
  }
  expect(buffered).toBe("");
  return lines;
}

/** [index, status] of every answer line, by index. */
async function statuses(stream: ReadableStream<Uint8Array>) {
  const lines = await read(stream);
  return lines.map(({ answer }) => ("index" in answer ? [answer.index, answer.status] : [])).sort();
}

describe("answerBatch", () => {
  it("answers each call as its HTTP request would have been answered, by index", async () => {
    const calls = [
      await signed("greet", { name: "Ada" }),
      await signed("outcome", { kind: "rate-limited" }),
      await signed("nope", {}),
    ];
    const lines = await read(answerBatch(hello, calls, host));
    const byIndex = new Map(lines.map(({ answer }) => ["index" in answer ? answer.index : -1, answer]));
    expect(byIndex.get(0)).toMatchObject({ status: 200, headers: { "updraft-protocol": "1" } });
    const greeting = byIndex.get(0);
    expect(greeting && "body" in greeting && JSON.parse(greeting.body).output.greeting).toBe("Hello, Ada");
    expect(byIndex.get(1)).toMatchObject({ status: 503, headers: { "retry-after": "3" } });
    expect(byIndex.get(2)).toMatchObject({ status: 404 });
  });

  it("checks each call's signature: a stranger's call is refused, the others run", async () => {
    const calls = [
      await signed("greet", { name: "Ada" }),
      await signed("greet", { name: "Eve" }, { jwk: stranger.privateJwk }),
    ];
    expect(await statuses(answerBatch(hello, calls, host))).toEqual([
      [0, 200],
      [1, 401],
    ]);
  });

  it("refuses a replayed call and one addressed to another plugin, and runs the others", async () => {
    const good = await signed("greet", { name: "Ada" });
    const calls = [good, good, await signed("greet", { name: "Eve" }, { plugin: "slack" })];
    const lines = await read(answerBatch(hello, calls, host));
    const codes = lines
      .map(({ answer }) => ("index" in answer ? [answer.status, JSON.parse(answer.body).code] : []))
      .sort();
    expect(codes).toEqual([
      [200, undefined],
      [401, "replayed"],
      [401, "wrong_recipient"],
    ]);
  });

  it("answers a call whose headers HTTP cannot carry with a 400, and runs the others", async () => {
    const good = await signed("greet", { name: "Ada" });
    const calls = [good, { ...good, headers: { ...good.headers, "bad header": "x" } }];
    expect(await statuses(answerBatch(hello, calls, host))).toEqual([
      [0, 200],
      [1, 400],
    ]);
  });

  it("writes a fast call's answer before a slow one ends", async () => {
    const soon = new Date(Date.now() + 300).toISOString();
    const calls = [
      await signed("outcome", { kind: "hang" }, { deadline: soon }),
      await signed("greet", { name: "Ada" }),
    ];
    const lines = await read(answerBatch(hello, calls, host));
    expect(lines.map(({ answer }) => ("index" in answer ? answer.index : -1))).toEqual([1, 0]);
    expect(lines[0]?.at).toBeLessThan(200);
    expect(lines[1]?.at).toBeGreaterThanOrEqual(250);
  });

  it("finishes its work quietly when the caller stops reading half-way", async () => {
    const background: Promise<unknown>[] = [];
    const soon = new Date(Date.now() + 200).toISOString();
    const calls = [
      await signed("greet", { name: "Ada" }),
      await signed("outcome", { kind: "hang" }, { deadline: soon }),
    ];
    const reader = answerBatch(hello, calls, { ...host, waitUntil: (p) => background.push(p) }).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"index":0');
    await reader.cancel(new Error("the platform gave up"));
    // The hanging call's answer has nowhere to go; nothing may reject unhandled (vitest fails on that).
    await expect(Promise.all(background)).resolves.toBeDefined();
  });

  it("refuses a batch that is not 1–6 well-formed calls in one line, running nothing", async () => {
    const ok = await signed("greet", { name: "Ada" });
    const bad: unknown[] = [
      [],
      Array.from({ length: 7 }, () => ok),
      [{ ...ok, operator: "../manifest" }],
      [{ ...ok, body: 42 }],
      "not a list",
      null,
    ];
    for (const calls of bad) {
      expect(await read(answerBatch(hello, calls, host))).toEqual([
        { at: expect.any(Number), answer: { refused: "a batch is 1–6 signed operator requests" } },
      ]);
    }
  });
});
