/** Whatever arrives, the plugin answers in protocol shape and never with a server error. */
import { env } from "cloudflare:workers";
import { signInvocation } from "@updraft/plugin-sdk";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Answer, BASE, invocationBody, send, signedPost } from "./helpers.ts";

const OPERATORS = ["http", "transform", "noop", "sleep"] as const;

function expectProtocolShape(answer: Answer) {
  expect(answer.status).toBeLessThan(500);
  expect(["success", "failure", "waiting", "running"]).toContain(answer.body.status);
}

describe("fuzzing the protocol surface", () => {
  it("answers 400 to any signed JSON that is not an invocation", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const answer = await signedPost("/operators/noop", value);
        expect(answer.status).toBe(400);
        expectProtocolShape(answer);
      }),
      { numRuns: 60 },
    );
  });

  it("answers any input to any operator with a result, never a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...OPERATORS),
        fc.dictionary(
          fc.constantFrom("url", "method", "expression", "data", "duration", "value", "x"),
          fc.jsonValue(),
        ),
        async (operator, input) => {
          const answer = await signedPost(`/operators/${operator}`, invocationBody(input));
          expect(answer.status).toBe(200);
          expectProtocolShape(answer);
        },
      ),
      { numRuns: 120 },
    );
  });

  it("evaluates arbitrary expression text without crashing", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 60 }),
        fc.jsonValue({ maxDepth: 3 }),
        async (expression, data) => {
          const answer = await signedPost(
            "/operators/transform",
            invocationBody({ expression: `${expression}x`, data }),
          );
          expect(answer.status).toBe(200);
          expectProtocolShape(answer);
        },
      ),
      { numRuns: 120 },
    );
  });

  it("answers 401 to arbitrary signature headers", async () => {
    const body = JSON.stringify(invocationBody({}));
    const genuine = await signInvocation({ privateJwk: env.TEST_SIGNING_JWK, body });
    // The genuine request verifies once; sent again it is a replay (401 replayed).
    let delivered = false;
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          { "webhook-signature": fc.string(), "webhook-timestamp": fc.string(), "webhook-id": fc.string() },
          {
            requiredKeys: [],
          },
        ),
        async (headers) => {
          // Header values must be valid ByteStrings; replace what fetch itself would reject.
          const safe = Object.fromEntries(
            Object.entries(headers).map(([k, v]) => [k, v.replace(/[^\x20-\x7e]/g, "?")]),
          );
          const answer = await send(
            new Request(`${BASE}/operators/noop`, { method: "POST", body, headers: { ...genuine, ...safe } }),
          );
          // Only the genuine id, timestamp and signature verify; any other value of any of them is a 401.
          const untouched = Object.entries(safe).every(([name, value]) => genuineHeader(name) === value);
          expect(answer.status).toBe(untouched && !delivered ? 200 : 401);
          if (untouched) delivered = true;
          expectProtocolShape(answer);
        },
      ),
      { numRuns: 80 },
    );

    function genuineHeader(name: string): string | undefined {
      return (genuine as Record<string, string | undefined>)[name];
    }
  });

  it("answers 401 to the genuine signature with any one character changed", async () => {
    const body = JSON.stringify(invocationBody({}));
    const genuine = await signInvocation({ privateJwk: env.TEST_SIGNING_JWK, body });
    const signature = genuine["webhook-signature"] ?? "";
    expect(signature).toMatch(/^v1a,.+==$/);
    const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: signature.length - 1 }),
        fc.constantFrom(...ALPHABET),
        async (at, replacement) => {
          // The character before "==" carries unused bits: some changes there decode to the same bytes.
          fc.pre(signature[at] !== replacement && at !== signature.length - 3);
          const forged = `${signature.slice(0, at)}${replacement}${signature.slice(at + 1)}`;
          const answer = await send(
            new Request(`${BASE}/operators/noop`, {
              method: "POST",
              body,
              headers: { ...genuine, "webhook-signature": forged },
            }),
          );
          expect(answer.status).toBe(401);
        },
      ),
      { numRuns: 80 },
    );
  });
});
