/**
 * Triggers other than the schedule. Each item is an object with exactly one key naming its kind, so the
 * schema is a union that later kinds (say `email` or `queue`) join without touching existing specs.
 */
import { z } from "zod";
import { DAY_MS } from "../duration";
import { duration, jsonSchemaObject, SECRET_NAME_PATTERN } from "./fields";

export const WEBHOOK_SCHEMES = [
  "standard",
  "github",
  "stripe",
  "slack",
  "hmac",
  "bearer",
  "basic",
  "none",
] as const;
/** Schemes whose signature covers a timestamp, the only ones a replay tolerance means anything for. */
const TIMESTAMPED_SCHEMES: ReadonlySet<string> = new Set(["standard", "stripe", "slack"]);

export const HOOK_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const HMAC_OPTIONS = ["algorithm", "header", "prefix", "encoding", "signed_content"] as const;
const SECRET_REFERENCE = /^\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;

/** The tenant secret a `{{ secrets.NAME }}` reference names, or null. */
export function secretReferenceName(value: string): string | null {
  const name = SECRET_REFERENCE.exec(value)?.[1];
  return name !== undefined && SECRET_NAME_PATTERN.test(name) ? name : null;
}

const SecretReference = z.string().superRefine((value, ctx) => {
  if (secretReferenceName(value) !== null) return;
  // Never echo the value: it may well be the secret itself.
  ctx.addIssue({
    code: "custom",
    message:
      'secret must be a reference such as "{{ secrets.GITHUB_HOOK_SECRET }}": store the value as a tenant ' +
      "secret (PUT /api/tenants/{t}/secrets/{name}); literal secrets are refused in a spec, which is stored " +
      "and shown in plain text",
  });
});

const Verify = z
  .strictObject({
    scheme: z.enum(WEBHOOK_SCHEMES),
    secret: SecretReference.optional().meta({
      description: "A tenant secret reference, {{ secrets.NAME }}; omit it to have one generated",
      pattern: SECRET_REFERENCE.source,
    }),
    tolerance: duration().optional(),
    /** Generic HMAC only: how the signature is made and where it is sent. */
    algorithm: z.enum(["sha1", "sha256", "sha512"]).optional(),
    header: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, "header must be a header name")
      .optional(),
    prefix: z.string().max(32).optional(),
    encoding: z.enum(["hex", "base64"]).optional(),
    signed_content: z
      .string()
      .max(200)
      .regex(
        /^(?:[^{}]|\{body\}|\{headers\.[a-z0-9-]{1,64}\})*$/,
        "signed_content may hold text, {body} and {headers.name} (a lower-case header name)",
      )
      .optional()
      .meta({ description: 'What is signed, e.g. "{headers.x-timestamp}.{body}"; default "{body}"' }),
  })
  .superRefine((verify, ctx) => {
    if (verify.scheme !== "hmac") {
      for (const key of HMAC_OPTIONS) {
        if (verify[key] !== undefined)
          ctx.addIssue({ code: "custom", message: `${key} applies only to scheme "hmac"`, path: [key] });
      }
    }
    if (verify.scheme === "none" && verify.secret !== undefined) {
      ctx.addIssue({
        code: "custom",
        message: 'scheme "none" verifies nothing, so it takes no secret',
        path: ["secret"],
      });
    }
    if (verify.tolerance !== undefined && !TIMESTAMPED_SCHEMES.has(verify.scheme)) {
      ctx.addIssue({
        code: "custom",
        message: "tolerance applies only to schemes that sign a timestamp: standard, stripe, slack",
        path: ["tolerance"],
      });
    }
  });

const Respond = z.strictObject({
  mode: z.enum(["async", "sync"]).default("async"),
  deadline_ms: z.int().min(1).max(30_000).default(10_000),
});

/** Bare JSONata over `{headers, body, query}`; compiled and checked with the other expressions. */
const WebhookExpression = z.string().min(1).max(10_000);

export const WebhookTrigger = z.strictObject({
  id: z
    .string()
    .regex(
      HOOK_ID_PATTERN,
      "id must start with a lower-case letter or digit and contain only a-z, 0-9, _ and - (at most 63)",
    ),
  verify: Verify,
  filter: WebhookExpression.optional(),
  dedupe: WebhookExpression.optional(),
  dedupe_window: duration(7 * DAY_MS).default("24h"),
  schema: jsonSchemaObject("schema").optional(),
  respond: Respond.default({ mode: "async", deadline_ms: 10_000 }),
});
export type WebhookTrigger = z.infer<typeof WebhookTrigger>;
export type WebhookVerify = WebhookTrigger["verify"];

export const Trigger = z.union([z.strictObject({ webhook: WebhookTrigger })]);
export type Trigger = z.infer<typeof Trigger>;
/** The kinds a trigger item may name, for error messages. */
export const TRIGGER_KINDS = ["webhook"] as const;
