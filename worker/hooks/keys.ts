/**
 * What a webhook trigger's expressions see and compute: the payload (`trigger` to a run), the filter,
 * and the dedup key, each evaluated on a small step budget (many tenants share one isolate).
 */
import { toHex } from "../crypto/encoding";
import { sha256Hex } from "../crypto/random";
import type { WebhookTrigger } from "../engine";
import { evaluate } from "../engine/render";
import { fromBase64Safe, fromHex } from "./verify";

/** Steps a filter or dedupe expression may take (a task instance gets 400,000 for all of its own). */
export const HOOK_STEP_BUDGET = 50_000;
/** Dedup keys longer than this are hashed: the key is stored with every accepted delivery. */
const MAX_KEY_CHARS = 200;

/** What `trigger` is to a webhook run's expressions, and the input of `filter` and `dedupe`. */
export type HookPayload = { headers: Record<string, string>; body: unknown; query: Record<string, string> };

export type Evaluated = { ok: true; value: unknown } | { ok: false; message: string };

export async function evaluateHook(expr: string, payload: HookPayload): Promise<Evaluated> {
  try {
    return { ok: true, value: await evaluate(expr, payload, { remaining: HOOK_STEP_BUDGET }) };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The delivery's dedup key: the trigger's `dedupe` expression, or else the scheme's own delivery id,
 * taken from what the signature covers (or, where the scheme signs no id, the signature itself), so a
 * captured delivery sent again with another id header is still the same delivery. null: no key.
 */
export async function dedupKey(
  trigger: WebhookTrigger,
  headers: Headers,
  payload: HookPayload,
): Promise<{ ok: true; value: string } | { ok: false; message: string } | null> {
  let value: unknown;
  if (trigger.dedupe !== undefined) {
    const result = await evaluateHook(trigger.dedupe, payload);
    if (!result.ok) return result;
    value = result.value;
  } else value = await schemeDeliveryId(trigger.verify, headers, payload.body);
  if (value === undefined || value === null || value === "") return null;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return { ok: true, value: text.length > MAX_KEY_CHARS ? `sha256:${await sha256Hex(text)}` : text };
}

async function schemeDeliveryId(
  verify: WebhookTrigger["verify"],
  headers: Headers,
  body: unknown,
): Promise<unknown> {
  const field = (name: string) =>
    typeof body === "object" && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  // The signature's bytes, decoded the way verification decodes them: another spelling of the same
  // signature (hex case, spaces) is the same delivery.
  const signature = (name: string, prefix: string, encoding: "hex" | "base64") => {
    const value = headers.get(name)?.slice(prefix.length).trim();
    if (!value) return null;
    const bytes = encoding === "base64" ? fromBase64Safe(value) : fromHex(value);
    return bytes === null ? null : `sig:${toHex(bytes)}`;
  };
  switch (verify.scheme) {
    // Signed: webhook-id is part of the signed content; the event ids are in the signed body.
    case "standard":
      return headers.get("webhook-id");
    case "stripe":
      return field("id");
    case "slack":
      return field("event_id");
    // X-GitHub-Delivery is not signed and GitHub signs no timestamp: the signature itself names the
    // delivery (a redelivery has the same body, so the same signature).
    case "github":
      return signature("x-hub-signature-256", "sha256=", "hex");
    case "hmac":
      return signature(verify.header ?? "x-signature", verify.prefix ?? "", verify.encoding ?? "hex");
    // Nothing is signed: the sender, who holds the credential, may name its retries.
    default:
      return headers.get("idempotency-key");
  }
}
