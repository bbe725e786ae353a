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

export type Parsed<T> = { ok: true; value: T } | { ok: false; outcome: Outcome };

/** The body as JSON, or a 400 saying it is not. */
export function parseJson(bytes: Uint8Array): Parsed<unknown> {
  try {
    return {
      ok: true,
      value: JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)),
    };
  } catch {
    return { ok: false, outcome: reject(400, "malformed_json", "the body is not valid JSON") };
  }
}

/** Parsed JSON checked against a body schema; a violation is a 400 naming what is wrong. */
export function parseBody<S extends z.ZodType>(schema: S, json: unknown): Parsed<z.output<S>> {
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = issuesOf(parsed.error);
  return {
    ok: false,
    outcome: reject(400, "invalid_invocation", "the body violates the protocol", { issues }),
  };
}
