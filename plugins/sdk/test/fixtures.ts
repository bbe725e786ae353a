/** A small plugin that exercises every SDK path, and helpers to call it signed. */
import { z } from "zod";
import {
  defineOperator,
  definePlugin,
  generateSigningKeyPair,
  handlePluginRequest,
  NonRetriableError,
  type Plugin,
  RetryAfterError,
  secret,
  signInvocation,
} from "../src/index.ts";

const greet = defineOperator({
  name: "greet",
  kind: "action",
  description: "Greets someone, logging as it goes.",
  input: z.strictObject({ name: z.string(), shout: z.boolean().default(false) }),
  output: z.strictObject({ greeting: z.string(), tenant: z.string() }),
  run(ctx) {
    ctx.log("info", `greeting ${ctx.input.name}`);
    const greeting = `Hello, ${ctx.input.name}`;
    return { greeting: ctx.input.shout ? greeting.toUpperCase() : greeting, tenant: ctx.invocation.tenant };
  },
});

const outcome = defineOperator({
  name: "outcome",
  kind: "action",
  description: "Ends the way its input says, to test the result table.",
  input: z.strictObject({
    kind: z.enum(["fatal", "rate-limited", "crash", "throw-string", "bad-output", "wait", "hang", "chatty"]),
  }),
  output: z.strictObject({ ok: z.literal(true) }),
  async run(ctx) {
    switch (ctx.input.kind) {
      case "fatal":
        throw new NonRetriableError("the record does not exist");
      case "rate-limited":
        throw new RetryAfterError(2_500, "slow down");
      case "crash":
        throw new Error("socket hang up");
      case "throw-string":
        throw "just a string";
      case "bad-output":
        return { ok: false } as unknown as { ok: true };
      case "wait":
        return ctx.waiting(1_000);
      case "hang":
        return new Promise<never>(() => {});
      case "chatty":
        for (let i = 0; i < 150; i++) ctx.log("debug", `line ${i} ${"x".repeat(3_000)}`);
        return { ok: true as const };
    }
  },
});

const ready = defineOperator({
  name: "ready",
  kind: "sensor",
  description: "Waits until `at`.",
  input: z.strictObject({ at: z.iso.datetime() }),
  output: z.strictObject({}),
  run: (ctx) =>
    Date.parse(ctx.input.at) > Date.now() ? ctx.waiting(Date.parse(ctx.input.at) - Date.now()) : {},
});

const report = defineOperator({
  name: "report",
  kind: "action",
  description: "Builds a report in the background and calls back.",
  input: z.strictObject({ pages: z.number().int(), fail: z.boolean().default(false) }),
  output: z.strictObject({ pages: z.number() }),
  run: (ctx) =>
    ctx.background(async () => {
      if (ctx.input.fail) throw new NonRetriableError("printer on fire");
      return { pages: ctx.input.pages };
    }),
});

const whoami = defineOperator({
  name: "whoami",
  kind: "action",
  description: "Returns the connection's workspace and the run context.",
  input: z.strictObject({}),
  output: z.strictObject({ workspace: z.unknown(), context: z.unknown() }),
  context: true,
  run: (ctx) => ({ workspace: ctx.connection.workspace, context: ctx.context }),
});

export const hello: Plugin = definePlugin({
  name: "hello",
  version: "1.2.3",
  title: "Hello",
  description: "Greetings, for SDK tests.",
  categories: ["examples"],
  connection: z.strictObject({ workspace: z.string(), token: secret(z.string().min(1)) }),
  operators: [greet, outcome, ready, report, whoami],
  async testConnection(connection) {
    if (connection.token === "expired") throw new Error("token expired");
    return { ok: connection.token === "valid", detail: `workspace ${String(connection.workspace)}` };
  },
});

export const keys = await generateSigningKeyPair("sdk-test");
export const stranger = await generateSigningKeyPair("stranger");

export function invocation(input: unknown, overrides: Record<string, unknown> = {}) {
  const now = Date.now();
  return {
    invocation_id: "inv-1",
    idempotency_key: "idem-1",
    attempt: 1,
    tenant: "acme",
    pipeline: "nightly",
    run: "run-1",
    task: "greet",
    map_index: null,
    logical_date: new Date(now).toISOString(),
    input,
    connection: { workspace: "main", token: "valid" },
    callback_url: "https://updraft.test/callbacks/inv-1",
    deadline: new Date(now + 30_000).toISOString(),
    ...overrides,
  };
}

export async function signedRequest(
  url: string,
  body: unknown,
  jwk: JsonWebKey = keys.privateJwk,
): Promise<Request> {
  const text = JSON.stringify(body);
  const headers = await signInvocation({ privateJwk: jwk, body: text });
  return new Request(url, { method: "POST", headers, body: text });
}

/** Calls the handler in-process, as a host adapter would, collecting background work and callbacks. */
export async function call(path: string, body: unknown, env: Record<string, unknown> = {}) {
  const background: Promise<unknown>[] = [];
  const callbacks: Array<{ url: string; body: unknown }> = [];
  const platformFetch = async (request: Request) => {
    callbacks.push({ url: request.url, body: await request.json() });
    return new Response(null, { status: 204 });
  };
  const request = await signedRequest(`https://hello.plugin${path}`, body);
  const response = await handlePluginRequest(hello, request, {
    env: { UPDRAFT_JWKS: JSON.stringify(keys.jwks), ...env },
    waitUntil: (promise) => background.push(promise),
    platformFetch,
  });
  const json = (await response.json()) as Record<string, unknown>;
  return { response, json, settled: () => Promise.all(background), callbacks };
}
