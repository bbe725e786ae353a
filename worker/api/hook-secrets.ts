/**
 * A webhook trigger's signing secret: rotation with a grace period (both secrets verify during it,
 * the old one stops at its end: the object's grace timer), and "send test delivery", a sample signed
 * with the trigger's own secret that goes through the real checks (worker/hooks/sign.ts).
 *
 * A trigger keeps one rotated-out secret, not a chain: a second rotation during the first one's grace
 * makes the secret it replaces the old one, with the new grace, and the first old secret stops
 * verifying at once. Senders are moved one secret at a time; two rotations in a row lock out one still
 * on the first secret, which is what someone rotating a leaked secret twice wants.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { quotasOf } from "../config";
import { RotatedSecret, RotateSecretBody, TestDeliveryBody, TestDeliveryResult } from "../contracts/api";
import { TenantVault } from "../crypto/envelope";
import { auditEntry } from "../db/audit";
import { batch, db } from "../db/client";
import { bumpRevision, findVersion, listTriggers } from "../db/pipelines";
import { parseDuration, storedSpec } from "../engine";
import { generateSecret, needsGeneratedSecret, secretContext, webhooksOf } from "../hooks/triggers";
import type { PipelineDO } from "../pipeline/object";
import { syncStoredSchedule } from "../pipeline-sync/request";
import { problems } from "../problem";
import { authorize } from "./access";
import { errorResponses, json, jsonBody, newApi } from "./openapi";
import { loadPipeline } from "./pipelines";
import { pipelineObject } from "./run-support";

/** How long a rotated-out secret keeps verifying by default (issue 12), and at most. */
export const DEFAULT_GRACE_MS = 24 * 3_600_000;
export const MAX_GRACE_MS = 7 * 24 * 3_600_000;

const Params = z.object({ t: z.string(), p: z.string(), trigger: z.string().max(100) });

export const hookSecretsApi = newApi()
  .openapi(
    createRoute({
      method: "post",
      path: "/{t}/pipelines/{p}/triggers/{trigger}/rotate-secret",
      operationId: "rotateTriggerSecret",
      tags: ["webhooks"],
      description:
        "Generates a new secret; the one it replaces keeps verifying until `previous_valid_until` " +
        "(`grace`, default 24h, at most 7d). Only one previous secret is kept: rotating again during " +
        "a grace replaces it, so the secret rotated out first stops verifying at once and the one just " +
        "replaced verifies until the new grace ends.",
      request: { params: Params, ...jsonBody(RotateSecretBody) },
      responses: {
        200: json(RotatedSecret, "The new secret; the previous one verifies until then"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { t, p, trigger } = c.req.valid("param");
      const { grace } = c.req.valid("json");
      const graceMs = grace === undefined ? DEFAULT_GRACE_MS : parseDuration(grace);
      if (graceMs === null || graceMs > MAX_GRACE_MS) {
        throw problems.validation([{ path: "grace", message: "a duration up to 7d, such as 24h" }]);
      }
      const scope = await authorize(c, t, "editor");
      const pipeline = await loadPipeline(c, scope, p);
      const d = db(c.env.DB);
      const version = await findVersion(d, pipeline.id, pipeline.latest_version);
      const hook = version ? webhooksOf(storedSpec(version.spec)).find((h) => h.id === trigger) : undefined;
      const row = (await listTriggers(d, pipeline.id)).find((r) => r.trigger_id === trigger);
      if (!hook || !row) throw problems.notFound("webhook trigger");
      if (!needsGeneratedSecret(hook) || !row.secret) {
        throw problems.conflict(
          hook.verify.secret === undefined
            ? "This trigger verifies nothing (scheme none), so it has no secret to rotate."
            : "This trigger verifies with a tenant secret: change that secret instead.",
        );
      }
      const vault = await TenantVault.open(c.env.MASTER_KEY, scope.tenant.id, scope.tenant.dataKey);
      const secret = generateSecret(hook.verify.scheme);
      const now = new Date();
      const until = new Date(now.getTime() + graceMs).toISOString();
      const ciphertext = await vault.encrypt(secret, secretContext(pipeline.id, trigger));
      const [updated] = await batch(c.env.DB, [
        // Only over the secret read above: a rotation that raced this one wins, and this one is a 409.
        d
          .updateTable("triggers")
          .set({ secret: ciphertext, previous_secret: row.secret, previous_until: until })
          .where("hook_id", "=", row.hook_id)
          .where("secret", "=", row.secret),
        bumpRevision(d, pipeline.id),
        auditEntry(
          d,
          {
            tenantId: scope.tenant.id,
            actor: scope.actor,
            action: "trigger.rotate_secret",
            target: `${p}/${trigger}`,
            ip: scope.ip,
          },
          now,
        ),
      ]);
      if (!updated?.meta.changes)
        throw problems.conflict("The secret was rotated meanwhile; rotate again if needed.");
      // The object verifies with both until `until` (the desk's secret filter; its grace timer then
      // forgets the old one). The rotation is committed: if this sync fails, the person still gets the
      // new secret (a retry would rotate it away), and the next save, pause or rotation carries it.
      try {
        await syncStoredSchedule(c, scope, pipeline);
      } catch (error) {
        console.error("rotated secret not synced to its pipeline yet", pipeline.slug, trigger, error);
      }
      return c.json({ secret, previous_valid_until: until }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/{t}/pipelines/{p}/triggers/{trigger}/test-delivery",
      operationId: "sendTestDelivery",
      tags: ["webhooks"],
      request: { params: Params, ...jsonBody(TestDeliveryBody) },
      responses: {
        200: json(TestDeliveryResult, "What the webhook answered the signed sample"),
        ...errorResponses,
      },
    }),
    async (c) => {
      const { t, p, trigger } = c.req.valid("param");
      const { body } = c.req.valid("json");
      const scope = await authorize(c, t, "editor");
      const { stub } = await pipelineObject(c, scope, p);
      // RPC types cannot name the answer's `unknown` fields.
      const sent = (await stub.testDelivery(trigger, body, quotasOf(c.env))) as unknown as Awaited<
        ReturnType<PipelineDO["testDelivery"]>
      >;
      if (sent.kind === "not_found") throw problems.notFound("webhook trigger");
      if (sent.kind === "unsigned")
        throw problems.conflict(`No test delivery can be signed: ${sent.detail}.`);
      return c.json({ status: sent.answer.status, body: sent.answer.body }, 200);
    },
  );
