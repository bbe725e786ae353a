#!/usr/bin/env node
// The "jobs" example plugin: an Updraft plugin written without the SDK, in plain Node `http` with no
// dependencies. Run it, then publish its URL in the marketplace (README.md):
//
//   UPDRAFT_JWKS_URL=http://localhost:8787/.well-known/jwks.json PORT=8790 node plugins/examples/jobs/server.mjs
//
// Environment: PORT (default 8790), HOST (default 127.0.0.1), UPDRAFT_JWKS (the platform's JWKS as
// JSON) or UPDRAFT_JWKS_URL (where to fetch it), JOBS_API_KEY (when set, the one key connections may use).
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { checkAgainst, jobQueue, MANIFEST, NAME } from "./jobs.mjs";
import {
  checkSignature,
  HEADERS,
  invocationIssues,
  keyring,
  readBody,
  refusal,
  replayGuard,
} from "./protocol.mjs";

/**
 * The plugin as a Node HTTP server (not listening yet) and its queue.
 * @param {{ jwks?: string, jwksUrl?: string, apiKey?: string,
 *   onCallback?: (sent: import("./jobs.mjs").SentCallback) => void }} options
 */
export function createJobsPlugin({ jwks, jwksUrl, apiKey, onCallback }) {
  const keys = keyring({ jwks, jwksUrl });
  const replays = replayGuard();
  const queue = jobQueue({ onCallback });
  const operators = { run: queue.run, wait: queue.wait };

  /** @param {unknown} connection */
  const checkConnection = (connection) => {
    const checked = checkAgainst(MANIFEST.connection, /** @type {any} */ (connection ?? {}), "connection");
    if (checked.issues.length === 0 && apiKey !== undefined && checked.value.api_key !== apiKey) {
      checked.issues.push({ path: "connection.api_key", message: "is not this service's key" });
    }
    return checked;
  };

  /**
   * @param {import("node:http").IncomingMessage} request
   * @returns {Promise<import("./protocol.mjs").Answer>}
   */
  const answer = async (request) => {
    const path = new URL(request.url ?? "/", "http://plugin").pathname;
    const operator = /^\/operators\/([a-z][a-z0-9-]{0,62})$/.exec(path)?.[1];
    if (path === "/manifest") {
      if (request.method === "GET" || request.method === "HEAD") return { status: 200, body: MANIFEST };
      return { ...refusal(405, "method_not_allowed", "Use GET."), headers: { allow: "GET, HEAD" } };
    }
    if (path !== "/connection/test" && !operator) return refusal(404, "not_found", `No route ${path}.`);
    if (request.method !== "POST") {
      return { ...refusal(405, "method_not_allowed", "Use POST."), headers: { allow: "POST" } };
    }
    const read = await readBody(request);
    if ("refused" in read) return read.refused;
    const unverified = await checkSignature(request.headers, read.raw, keys, replays);
    if (unverified) return unverified;
    let body;
    try {
      body = JSON.parse(read.raw.toString("utf8"));
    } catch {
      return refusal(400, "malformed_json", "The body is not JSON.");
    }
    // The signed body names the plugin the platform meant: a request for another plugin is a replay.
    if (typeof body?.plugin === "string" && body.plugin !== NAME) {
      return refusal(401, "wrong_recipient", `This request is for plugin ${body.plugin}.`);
    }
    if (path === "/connection/test") {
      const { issues } = checkConnection(body?.connection);
      const detail = issues.map((issue) => `${issue.path} ${issue.message}`).join("; ");
      return {
        status: 200,
        body: { ok: issues.length === 0, detail: detail || "The account accepts this key." },
      };
    }
    const issues = invocationIssues(body);
    if (issues.length > 0) return refusal(400, "invalid_invocation", "The invocation is malformed.", issues);
    const run = operators[/** @type {keyof typeof operators} */ (operator)];
    if (!run) return refusal(404, "unknown_operator", `No operator ${operator}.`);
    if (Date.parse(body.deadline) <= Date.now()) {
      const error = "The deadline had passed before the call arrived.";
      return { status: 200, body: { status: "failure", error, retryable: true, code: "deadline_exceeded" } };
    }
    const schema = MANIFEST.operators.find((entry) => entry.name === operator)?.input;
    const input = checkAgainst(schema, body.input, "input");
    const connection = checkConnection(body.connection);
    const invalid = [...input.issues, ...connection.issues];
    if (invalid.length > 0) {
      const error = invalid.map((issue) => `${issue.path} ${issue.message}`).join("; ");
      return { status: 200, body: { status: "failure", error, retryable: false, issues: invalid } };
    }
    return run({ ...body, input: input.value, connection: connection.value });
  };

  const server = createServer((request, response) => {
    void answer(request)
      .catch((error) => ({
        status: 500,
        body: { status: "failure", error: `The plugin crashed: ${error}`, retryable: true, code: "crashed" },
      }))
      .then(({ status, headers, body }) => {
        response.writeHead(status, { ...HEADERS, ...headers });
        response.end(request.method === "HEAD" ? undefined : JSON.stringify(body));
      });
  });
  return { server, maintenance: queue.maintenance };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { UPDRAFT_JWKS, UPDRAFT_JWKS_URL, JOBS_API_KEY, PORT = "8790", HOST = "127.0.0.1" } = process.env;
  if (!UPDRAFT_JWKS && !UPDRAFT_JWKS_URL) {
    console.error("Set UPDRAFT_JWKS_URL (e.g. http://localhost:8787/.well-known/jwks.json) or UPDRAFT_JWKS.");
    process.exit(2);
  }
  const { server } = createJobsPlugin({
    jwks: UPDRAFT_JWKS,
    jwksUrl: UPDRAFT_JWKS_URL,
    apiKey: JOBS_API_KEY,
  });
  server.listen(Number(PORT), HOST, () => {
    const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
    console.log(`jobs plugin listening on http://${HOST}:${port}`);
  });
  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
