/**
 * Plugin manifests served over real TCP on 127.0.0.1 for the publication tests: a good plugin at
 * any version, one whose manifest changed under the same version, and every way a publication URL
 * can go wrong (invalid envelope, broken or unsafe schemas, redirect, HTML, huge, hanging, 404).
 *
 * Its signed endpoints check what PROTOCOL.md §2 asks of a plugin written without the SDK (signature,
 * recipient, replay) and record every signed call; `GET /calls/{name}` lists those to plugin `name`.
 */
import { createPublicKey, verify } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    manifestPort: number;
  }
}

export function manifest(name: string, version: string, extra: Record<string, unknown> = {}) {
  return {
    protocol: 1,
    name,
    version,
    title: `${name} plugin`,
    description: `Does ${name} things.`,
    categories: ["testing"],
    icon: null,
    homepage: null,
    connection: {
      type: "object",
      properties: { api_key: { type: "string", writeOnly: true }, region: { type: "string" } },
      required: ["api_key"],
    },
    operators: [
      {
        name: "echo",
        description: "Answers its input, its version and what its connection holds (never a secret).",
        kind: "action",
        input: { type: "object", properties: { text: { type: "string" }, wait_ms: { type: "integer" } } },
        output: { type: "object" },
        // 1.2.0 declares a short timeout: runs started before an upgrade to it keep 1.0.0's.
        timeout: version === "1.2.0" ? "500ms" : "30s",
      },
      {
        name: "leak",
        description: "A careless operator: puts its connection's secret in its output and logs.",
        kind: "action",
        input: { type: "object" },
        output: { type: "object" },
        timeout: "30s",
      },
    ],
    ...extra,
  };
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(typeof body === "string" ? body : JSON.stringify(body));
}

/** A signed call as the plugin saw it: where it went, the recipient its body named, its webhook-id. */
export type RecordedCall = { path: string; plugin: unknown; webhook_id: string; callback_url: unknown };

const calls = new Map<string, RecordedCall[]>();
const seenIds = new Set<string>();

const refusal = (code: string, error: string) => ({ status: "failure", error, retryable: false, code });

/**
 * Reads a signed POST, records it, and refuses it as a conforming plugin must (401): not signed by the
 * platform, addressed to another plugin than `name`, or a webhook-id already delivered. Null when
 * refused (the answer is sent), else the parsed body.
 */
async function admitted(
  name: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.from(chunk));
  const body = Buffer.concat(chunks).toString("utf8");
  if (!signedByPlatform(request, body)) {
    send(response, 401, refusal("bad_signature", "not signed by the platform"));
    return null;
  }
  const json = JSON.parse(body) as Record<string, unknown>;
  const id = String(request.headers["webhook-id"]);
  const list = calls.get(name) ?? [];
  list.push({
    path: (request.url ?? "").split("/").slice(4).join("/"),
    plugin: json.plugin,
    webhook_id: id,
    callback_url: json.callback_url,
  });
  calls.set(name, list);
  if (seenIds.has(id)) {
    send(response, 401, refusal("replayed", `webhook-id ${id} was already delivered`));
    return null;
  }
  seenIds.add(id);
  if (json.plugin !== undefined && json.plugin !== name) {
    send(response, 401, refusal("wrong_recipient", `addressed to ${String(json.plugin)}, not ${name}`));
    return null;
  }
  return json;
}

/** Whether the request carries the platform's Standard Webhooks v1a signature over its body. */
function signedByPlatform(request: IncomingMessage, body: string): boolean {
  const jwks = JSON.parse(process.env.UPDRAFT_TEST_JWKS ?? '{"keys":[]}') as {
    keys: Record<string, string>[];
  };
  const [key] = jwks.keys;
  const id = request.headers["webhook-id"];
  const timestamp = request.headers["webhook-timestamp"];
  const signature = String(request.headers["webhook-signature"] ?? "");
  if (!key || typeof id !== "string" || typeof timestamp !== "string" || !signature.startsWith("v1a,"))
    return false;
  const publicKey = createPublicKey({ key: { kty: key.kty, crv: key.crv, x: key.x }, format: "jwk" });
  const content = Buffer.from(`${id}.${timestamp}.${body}`);
  return verify(null, content, publicKey, Buffer.from(signature.slice(4), "base64"));
}

/**
 * `POST …/connection/test` (PROTOCOL.md §6): "good-key" passes; any other key is refused, the key
 * echoed in the detail (a careless plugin); a plugin named `garbage-…` answers HTML.
 */
async function connectionTest(name: string, request: IncomingMessage, response: ServerResponse) {
  const json = await admitted(name, request, response);
  if (json === null) return;
  if (name.startsWith("garbage-")) {
    response.writeHead(200, { "content-type": "text/html" });
    return response.end("<html>oops</html>");
  }
  const key = (json as { connection: { api_key?: string } | null }).connection?.api_key;
  if (key === "good-key") return send(response, 200, { ok: true, detail: "authenticated as acme" });
  return send(response, 200, { ok: false, detail: `the key ${key} was refused` });
}

/** How often `echo` was called per idempotency key, for `input.pokes`. */
const pokes = new Map<string, number>();

/**
 * `POST …/operators/{echo|leak}` (PROTOCOL.md §3), signed by the platform or refused: `echo` answers
 * after `input.wait_ms` with the version that served it, its input and its connection's plain fields;
 * with `input.pokes: n` it answers `waiting` (poke again at once) until its n-th call for the task.
 */
async function operator(
  name: string,
  version: string,
  operatorName: string,
  request: IncomingMessage,
  response: ServerResponse,
) {
  const json = await admitted(name, request, response);
  if (json === null) return;
  const invocation = json as {
    idempotency_key: string;
    input: { text?: string; wait_ms?: number; pokes?: number; later?: boolean };
    connection: Record<string, unknown> | null;
  };
  const { api_key, ...plain } = invocation.connection ?? {};
  if (operatorName === "leak") {
    // Later: 202 now, and the test itself posts the leaking result to the recorded callback_url.
    if (invocation.input.later === true) return send(response, 202, { status: "running" });
    const logs = [
      { at: new Date().toISOString(), level: "info", message: `calling with ${String(api_key)}` },
    ];
    return send(response, 200, { status: "success", output: { key: api_key }, logs });
  }
  const poked = (pokes.get(invocation.idempotency_key) ?? 0) + 1;
  pokes.set(invocation.idempotency_key, poked);
  if (poked < (invocation.input.pokes ?? 0))
    return send(response, 200, { status: "waiting", retry_after_ms: 0 });
  await new Promise((resolve) => setTimeout(resolve, invocation.input.wait_ms ?? 0));
  return send(response, 200, {
    status: "success",
    output: { version, input: invocation.input, connection: plain, authenticated: api_key === "good-key" },
  });
}

/** What `POST /target/sink/{name}` received, by name. */
const sinks = new Map<string, unknown[]>();

/**
 * `/target/…`: a service the blueprints' `core/http` tasks call (test/worker/blueprints.test.ts):
 * `items` (a file listing), `records` (a day's records), `export?ready_at=ms` (running, then done),
 * `status?code=n`, and `sink/{name}` (POST records the JSON body, GET lists what it received).
 */
async function target(request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? "/", "http://target");
  const [, , what = "", name = ""] = url.pathname.split("/");
  switch (what) {
    case "items":
      return send(response, 200, {
        items: [
          { name: "a.csv", size: 2048 },
          { name: "b.csv", size: 1024 },
          { name: "c.csv", size: 512 },
        ],
      });
    case "records":
      return send(response, 200, {
        records: [
          { id: 1, amount: 1.5 },
          { id: 2, amount: 0.25 },
        ],
      });
    case "export": {
      const done = Date.now() >= Number(url.searchParams.get("ready_at") ?? "0");
      return send(response, 200, done ? { state: "done", rows: 42 } : { state: "running" });
    }
    case "status":
      return send(response, Number(url.searchParams.get("code") ?? "500"), { error: "as asked" });
    case "sink": {
      if (request.method === "GET") return send(response, 200, sinks.get(name) ?? []);
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(Buffer.from(chunk));
      const list = sinks.get(name) ?? [];
      list.push(JSON.parse(Buffer.concat(chunks).toString("utf8") || "null"));
      sinks.set(name, list);
      return send(response, 201, { ok: true });
    }
    default:
      return send(response, 404, { error: "no such target" });
  }
}

export default async function setup(project: TestProject) {
  const server = createServer((request, response) => {
    if (request.url?.startsWith("/target/")) {
      void target(request, response);
      return;
    }
    // /{case}/{name}/{version}/manifest and /{case}/{name}/{version}/connection/test
    const [, kind = "", name = "acme", version = "1.0.0", last, more] = (request.url ?? "/").split("/");
    if (kind === "calls" && request.method === "GET") return send(response, 200, calls.get(name) ?? []);
    if (last === "connection" && more === "test" && request.method === "POST") {
      void connectionTest(name, request, response);
      return;
    }
    if (last === "operators" && more && request.method === "POST") {
      void operator(name, version, more, request, response);
      return;
    }
    if (last !== "manifest") return send(response, 404, { error: "no such path" });
    switch (kind) {
      case "good":
        return send(response, 200, manifest(name, version));
      case "changed":
        return send(response, 200, manifest(name, version, { description: "Something else now." }));
      case "invalid":
        return send(response, 200, {
          protocol: 1,
          name: "Not A Name",
          version,
          operators: [{ kind: "sometimes" }],
        });
      case "bad-version":
        return send(response, 200, manifest(name, "one"));
      case "v-version":
        return send(response, 200, manifest(name, `v${version}`));
      case "nested-secret":
        return send(
          response,
          200,
          manifest(name, version, {
            connection: {
              type: "object",
              properties: {
                auth: { type: "object", properties: { token: { type: "string", writeOnly: true } } },
              },
            },
          }),
        );
      case "deep":
        return send(
          response,
          200,
          manifest(name, version, { x_meta: JSON.parse(`${"[".repeat(100)}${"]".repeat(100)}`) }),
        );
      case "bad-schema":
        return send(response, 200, manifest(name, version, { connection: { type: 5 } }));
      case "unsafe-regex":
        return send(
          response,
          200,
          manifest(name, version, { connection: { type: "string", pattern: "(a+)+$" } }),
        );
      case "redirect":
        return send(response, 302, "", { location: "http://10.0.0.1/manifest" });
      case "html":
        response.writeHead(200, { "content-type": "text/html" });
        return response.end("<html>not a plugin</html>");
      case "huge":
        response.writeHead(200, { "content-type": "application/json" });
        response.write(`{"padding":"${"x".repeat(1024 * 1024)}`);
        return response.end(`${"x".repeat(1024 * 1024)}"}`);
      case "hang":
        return; // never answers
      default:
        return send(response, 404, { error: "unknown case" });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("manifestPort", (server.address() as AddressInfo).port);
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
