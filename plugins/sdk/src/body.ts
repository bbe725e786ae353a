/** Reading and parsing request bodies, and the protocol rejections that come with them. */
import type { z } from "zod";
import { issuesOf } from "./issues.ts";
import type { Outcome } from "./outcome.ts";
import { type Issue, MAX_BODY_BYTES, type RejectionCode, type RejectionStatus } from "./protocol/index.ts";

export function reject(
  status: RejectionStatus,
  code: RejectionCode,
  error: string,
  extra: { allow?: string; issues?: Issue[] } = {},
): Outcome {
  return { kind: "rejected", status, code, error, ...extra };
}

/** The raw bytes (signatures cover bytes, not parsed JSON), or null when over the limit. */
export async function readBody(request: Request): Promise<Uint8Array | null> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) return null;
  const bytes = new Uint8Array(await request.arrayBuffer());
  return bytes.length > MAX_BODY_BYTES ? null : bytes;
}

function parseJson(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return {
      ok: true,
      value: JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)),
    };
  } catch {
    return { ok: false };
  }
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; outcome: Outcome };

/** JSON then schema; either failure is a 400 naming what is wrong. */
export function parseBody<S extends z.ZodType>(schema: S, bytes: Uint8Array): Parsed<z.output<S>> {
  const json = parseJson(bytes);
  if (!json.ok) return { ok: false, outcome: reject(400, "malformed_json", "the body is not valid JSON") };
  const parsed = schema.safeParse(json.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = issuesOf(parsed.error);
  return {
    ok: false,
    outcome: reject(400, "invalid_invocation", "the body violates the protocol", { issues }),
  };
}
