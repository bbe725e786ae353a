/** What the API tells a pipeline's object about its webhooks, and what ingress and the object exchange. */
import { z } from "zod";
import type { Quotas } from "../config";
import type {
  DeliveryDetail as DeliveryDetailSchema,
  DeliverySummary as DeliverySummarySchema,
  VERDICTS,
} from "../contracts/api";
import { WebhookTrigger } from "../engine/spec/trigger";

/** A secret as stored in D1, sealed under the tenant's data key for `context`. */
export const HookSecret = z.object({
  ciphertext: z.string(),
  context: z.string(),
  /** A rotated-out secret verifies until then (ms); null: the current one. */
  until: z.number().nullable(),
});
export type HookSecret = z.infer<typeof HookSecret>;

/** One webhook trigger of the latest version, with what verifying its deliveries needs. */
export const HookConfig = z.object({
  hook_id: z.string(),
  /** The pipeline version a delivery's run uses: the latest. */
  version: z.int().min(1),
  trigger: WebhookTrigger,
  secrets: z.array(HookSecret),
  /** The tenant's wrapped data key, to open the secrets (worker/crypto/envelope.ts). */
  data_key: z.string(),
  paused: z.boolean(),
});
export type HookConfig = z.infer<typeof HookConfig>;

export type Verdict = (typeof VERDICTS)[number];

/** A delivery as ingress read it: the body is cut at the limit (then `too_large`). */
export type DeliveryInput = {
  hook_id: string;
  headers: [string, string][];
  query: Record<string, string>;
  body: Uint8Array;
  too_large: boolean;
  received_at: number;
  /** The tenant's quotas, as the Worker's vars say (the API passes them the same way for runs). */
  quotas: Quotas;
};

/** The HTTP answer the object decided; ingress sends it as is (problem+json for 4xx). */
export type DeliveryAnswer = { status: number; body: Record<string, unknown>; retry_after?: number };

/** Who the pipeline is, as the desk needs it (the object's identity, pipeline/types.ts). */
export type HookIdentity = {
  tenant_id: string;
  tenant_slug: string;
  pipeline_id: string;
  pipeline_slug: string;
  origin: string;
};

/** The object's timer table, for the ledger's sweeps (pipeline/timers.ts, kind "hooks"). */
export interface HookTimers {
  set(kind: "hooks", id: string, at: number, options?: { earliest?: boolean }): void;
  clear(kind: "hooks", id: string): void;
}

/** The wire shapes of the deliveries API (contracts/api.ts), which the ledger answers as they are. */
export type DeliverySummary = z.infer<typeof DeliverySummarySchema>;
export type DeliveryDetail = z.infer<typeof DeliveryDetailSchema>;
