/**
 * What a plugin answers (PROTOCOL.md §4), synchronously or later to `callback_url` (§5): one body
 * format for results, refusals and crashes, so the platform parses every answer the same way.
 */
import { z } from "zod";

/** Every SDK response carries this header, set to PROTOCOL_VERSION. */
export const PROTOCOL_HEADER = "updraft-protocol";
export const PROTOCOL_VERSION = 1;

/** The header of a callback POST that names the invocation whose result it carries. */
export const INVOCATION_ID_HEADER = "updraft-invocation-id";

/** Answers larger than this are not read into memory by the platform; the attempt fails instead. */
export const MAX_RESULT_BYTES = 1024 * 1024;

/** Writers keep to these; readers allow twice as much so a writer's truncation note never breaks a result. */
export const MAX_LOG_ENTRIES = 100;
export const MAX_LOG_MESSAGE_CHARS = 2_000;

export const LogLevel = z.enum(["debug", "info", "warn", "error"]);
export type LogLevel = z.output<typeof LogLevel>;

export const LogEntry = z.object({
  at: z.string().max(64),
  level: LogLevel,
  message: z.string().max(2 * MAX_LOG_MESSAGE_CHARS),
});
export type LogEntry = z.output<typeof LogEntry>;

const Logs = z
  .array(LogEntry)
  .max(2 * MAX_LOG_ENTRIES)
  .optional();

/**
 * Why the SDK refused a request, with its status: 401 signatures (and a signed request that was already
 * delivered or is addressed to another plugin), 400 bodies, 404 routes, 405, 413.
 */
export const RejectionCode = z.enum([
  "unsigned",
  "malformed_signature",
  "stale_timestamp",
  "bad_signature",
  "replayed",
  "wrong_recipient",
  "malformed_json",
  "invalid_invocation",
  "unknown_operator",
  "not_found",
  "method_not_allowed",
  "too_large",
]);
export type RejectionCode = z.output<typeof RejectionCode>;
export type RejectionStatus = 400 | 401 | 404 | 405 | 413;

/** The `code` of a failure at the invocation's deadline: the platform records a timeout. */
export const DEADLINE_EXCEEDED = "deadline_exceeded";

/** One schema violation, as `{path, message}` with a dotted path (`headers.accept`, `items.0`). */
export const Issue = z.object({ path: z.string(), message: z.string() });
export type Issue = z.output<typeof Issue>;

/** The result body a plugin sends, synchronously or to its callback URL. */
export const PluginResult = z.discriminatedUnion("status", [
  z.object({ status: z.literal("success"), output: z.unknown(), logs: Logs }),
  z.object({
    status: z.literal("failure"),
    error: z.string().max(10_000),
    retryable: z.boolean(),
    retry_after_ms: z.number().int().nonnegative().optional(),
    /** Refusals name their reason (RejectionCode); a failure at the deadline says DEADLINE_EXCEEDED. */
    code: z.string().max(100).optional(),
    /** The input or connection paths that violate the plugin's schemas (PROTOCOL.md §3), as Issue. */
    issues: z.array(z.unknown()).max(1000).optional(),
    logs: Logs,
  }),
  z.object({ status: z.literal("waiting"), retry_after_ms: z.number().int().nonnegative(), logs: Logs }),
  z.object({ status: z.literal("running") }),
]);
export type PluginResult = z.output<typeof PluginResult>;
