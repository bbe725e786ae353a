/**
 * Every way a request to a plugin can end, and the one table that turns each into status, headers
 * and body. The table is a `Record` over `Outcome["kind"]`, so adding a kind without deciding its
 * wire form does not compile.
 */
import type { z } from "zod";
import {
  type ConnectionTestResult,
  type DEADLINE_EXCEEDED,
  type Issue,
  type LogEntry,
  type PluginResult,
  PROTOCOL_HEADER,
  PROTOCOL_VERSION,
  type PublishedManifest,
  type RejectionCode,
  type RejectionStatus,
} from "./protocol/index.ts";

export type Outcome =
  | { kind: "success"; output: unknown; logs: LogEntry[] }
  | {
      kind: "failure";
      error: string;
      retryable: boolean;
      logs: LogEntry[];
      issues?: Issue[];
      /** The invocation's deadline passed: the platform records a timeout, not the operator's failure. */
      code?: typeof DEADLINE_EXCEEDED;
    }
  | { kind: "retry_after"; error: string; retryAfterMs: number; logs: LogEntry[] }
  | { kind: "running" }
  | { kind: "waiting"; retryAfterMs: number; logs: LogEntry[] }
  | { kind: "manifest"; manifest: PublishedManifest }
  | { kind: "connection_tested"; ok: boolean; detail: string }
  | {
      kind: "rejected";
      status: RejectionStatus;
      code: RejectionCode;
      error: string;
      issues?: Issue[];
      allow?: string;
    }
  | { kind: "keys_unavailable"; error: string }
  | { kind: "crashed"; error: string };

export interface WireResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** A final result as the platform reads it, in a response or in a callback. */
export type ResultBody = z.input<typeof PluginResult>;

const json = (status: number, body: unknown, headers: Record<string, string> = {}): WireResponse => ({
  status,
  headers: { "content-type": "application/json", [PROTOCOL_HEADER]: String(PROTOCOL_VERSION), ...headers },
  body,
});

/** Every answer but the manifest and the connection test: typed by the schema the platform reads. */
const result = (status: number, body: ResultBody, headers: Record<string, string> = {}) =>
  json(status, body, headers);

// Logs ride along only when there are some, keeping the common no-op answer small.
const withLogs = <B extends ResultBody>(body: B, logs: LogEntry[]): B =>
  logs.length > 0 ? { ...body, logs } : body;

type WireTable = { [K in Outcome["kind"]]: (outcome: Extract<Outcome, { kind: K }>) => WireResponse };

const WIRE: WireTable = {
  success: (o) => result(200, withLogs({ status: "success", output: o.output }, o.logs)),
  failure: (o) =>
    result(
      200,
      withLogs(
        { status: "failure", error: o.error, retryable: o.retryable, code: o.code, issues: o.issues },
        o.logs,
      ),
    ),
  retry_after: (o) =>
    result(
      503,
      withLogs(
        { status: "failure", error: o.error, retryable: true, retry_after_ms: o.retryAfterMs },
        o.logs,
      ),
      { "retry-after": String(Math.ceil(o.retryAfterMs / 1000)) },
    ),
  running: () => result(202, { status: "running" }),
  waiting: (o) => result(200, withLogs({ status: "waiting", retry_after_ms: o.retryAfterMs }, o.logs)),
  manifest: (o) => json(200, o.manifest, { "cache-control": "public, max-age=60" }),
  connection_tested: (o) => json(200, { ok: o.ok, detail: o.detail } satisfies ConnectionTestResult),
  // Protocol rejections keep the result shape so the platform parses one body format for everything.
  rejected: (o) =>
    result(
      o.status,
      { status: "failure", error: o.error, retryable: false, code: o.code, issues: o.issues },
      o.allow ? { allow: o.allow } : {},
    ),
  keys_unavailable: (o) =>
    result(
      503,
      { status: "failure", error: o.error, retryable: true, code: "keys_unavailable" },
      { "retry-after": "5" },
    ),
  crashed: (o) => result(500, { status: "failure", error: o.error, retryable: true, code: "crashed" }),
};

export function toWire(outcome: Outcome): WireResponse {
  // The cast is the one place the table's per-kind typing meets the union; the table itself is checked.
  const render = WIRE[outcome.kind] as (o: Outcome) => WireResponse;
  return render(outcome);
}

/** The JSON a long-running operator POSTs to `callback_url`: the same body its response would have had. */
export function callbackBody(outcome: Outcome): ResultBody {
  const { body } = toWire(outcome);
  return body as ResultBody;
}

/** A Web `Response` for any host that speaks Fetch (Workers, Node 18+). */
export function toResponse(outcome: Outcome): Response {
  const wire = toWire(outcome);
  return new Response(JSON.stringify(wire.body), { status: wire.status, headers: wire.headers });
}
