/**
 * The one error path: expected failures throw a ProblemError; `onError` renders it as RFC 9457
 * problem+json. The `type` is a stable URN clients can switch on.
 */
export type ProblemCode =
  | "bad_request"
  | "malformed_body"
  | "unsupported_media_type"
  | "unauthenticated"
  | "forbidden"
  | "csrf"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "gone"
  | "payload_too_large"
  | "upgrade_required"
  | "validation"
  | "rate_limited"
  | "quota_exceeded"
  | "idempotency_key_reused"
  | "unavailable"
  | "internal";

export type FieldError = { path: string; message: string; line?: number; column?: number };

const TITLES: Record<ProblemCode, string> = {
  bad_request: "Bad request",
  malformed_body: "Malformed request body",
  unsupported_media_type: "Unsupported media type",
  unauthenticated: "Authentication required",
  forbidden: "Forbidden",
  csrf: "Cross-site request refused",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  conflict: "Conflict",
  gone: "Gone",
  payload_too_large: "Payload too large",
  upgrade_required: "Upgrade required",
  validation: "Validation failed",
  rate_limited: "Too many requests",
  quota_exceeded: "Quota exceeded",
  idempotency_key_reused: "Idempotency key reused",
  unavailable: "Temporarily unavailable",
  internal: "Internal error",
};

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = "ProblemError";
  }

  toJSON() {
    return {
      type: `urn:updraft:problem:${this.code}`,
      title: TITLES[this.code],
      status: this.status,
      detail: this.detail,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

export const problems = {
  badRequest: (detail: string) => new ProblemError(400, "bad_request", detail),
  malformed: (detail: string, errors?: FieldError[]) =>
    new ProblemError(400, "malformed_body", detail, errors),
  unsupportedMediaType: (detail: string) => new ProblemError(415, "unsupported_media_type", detail),
  unauthenticated: (detail = "Sign in or send an API token as `Authorization: Bearer <token>`.") =>
    new ProblemError(401, "unauthenticated", detail),
  forbidden: (detail: string) => new ProblemError(403, "forbidden", detail),
  csrf: (detail: string) => new ProblemError(403, "csrf", detail),
  notFound: (what = "resource") => new ProblemError(404, "not_found", `No such ${what}.`),
  methodNotAllowed: (method: string) =>
    new ProblemError(405, "method_not_allowed", `${method} is not allowed on this route.`),
  conflict: (detail: string) => new ProblemError(409, "conflict", detail),
  tooLarge: (limitBytes: number) =>
    new ProblemError(413, "payload_too_large", `The request body exceeds ${limitBytes} bytes.`),
  upgradeRequired: (detail: string) =>
    new ProblemError(426, "upgrade_required", detail, undefined, { Upgrade: "websocket" }),
  validation: (errors: FieldError[], detail = "The request body is not valid.") =>
    new ProblemError(422, "validation", detail, errors),
  rateLimited: (detail: string, retryAfterSeconds: number) =>
    new ProblemError(429, "rate_limited", detail, undefined, { "Retry-After": String(retryAfterSeconds) }),
  idempotencyKeyReused: (detail: string) => new ProblemError(422, "idempotency_key_reused", detail),
  unavailable: (detail: string, retryAfterSeconds: number) =>
    new ProblemError(503, "unavailable", detail, undefined, { "Retry-After": String(retryAfterSeconds) }),
  quotaExceeded: (detail: string, retryAfterSeconds: number) =>
    new ProblemError(429, "quota_exceeded", detail, undefined, { "Retry-After": String(retryAfterSeconds) }),
};

/** Formats zod issue paths the way spec errors are formatted: `tasks[1].needs[0]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}
