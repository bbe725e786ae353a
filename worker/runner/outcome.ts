/**
 * What a plugin answered, mapped exhaustively onto what the engine understands. Anything that is not
 * a valid protocol answer — another status, a body that does not parse, a timeout, a refused
 * connection — becomes a retryable failure with a message that says what went wrong.
 */
import { z } from "zod";

export type Outcome =
  | { kind: "success"; output: unknown; logs: PluginLog[] }
  | { kind: "failure"; error: string; retryable: boolean; retryAfterMs?: number; logs: PluginLog[] }
  | { kind: "running" }
  | { kind: "waiting"; retryAfterMs: number; logs: PluginLog[] };

export type PluginLog = z.infer<typeof PluginLog>;
const PluginLog = z.object({
  at: z.string().max(64),
  level: z.enum(["debug", "info", "warn", "error"]),
  message: z.string().max(4000),
});
const Logs = z.array(PluginLog).max(200).optional();

/** The result body a plugin sends, synchronously or to its callback URL. */
export const PluginResult = z.discriminatedUnion("status", [
  z.object({ status: z.literal("success"), output: z.unknown(), logs: Logs }),
  z.object({
    status: z.literal("failure"),
    error: z.string().max(10_000),
    retryable: z.boolean(),
    retry_after_ms: z.number().int().nonnegative().optional(),
    logs: Logs,
  }),
  z.object({ status: z.literal("waiting"), retry_after_ms: z.number().int().nonnegative(), logs: Logs }),
  z.object({ status: z.literal("running") }),
]);
export type PluginResult = z.infer<typeof PluginResult>;

export function toOutcome(result: PluginResult): Outcome {
  switch (result.status) {
    case "success":
      return { kind: "success", output: result.output ?? null, logs: result.logs ?? [] };
    case "failure":
      return {
        kind: "failure",
        error: result.error,
        retryable: result.retryable,
        ...(result.retry_after_ms === undefined ? {} : { retryAfterMs: result.retry_after_ms }),
        logs: result.logs ?? [],
      };
    case "waiting":
      return { kind: "waiting", retryAfterMs: result.retry_after_ms, logs: result.logs ?? [] };
    case "running":
      return { kind: "running" };
    default: {
      const unreachable: never = result;
      return unreachable;
    }
  }
}

export function retryableError(error: string, retryAfterMs?: number): Outcome {
  return {
    kind: "failure",
    error,
    retryable: true,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    logs: [],
  };
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: Date): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
