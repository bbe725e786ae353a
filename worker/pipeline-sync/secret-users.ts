/**
 * A tenant secret's change reaches the objects of the pipelines whose webhooks verify with it: their
 * revisions are bumped in the change's batch (bumpSecretUsers), then as many as one request may are
 * synced at once; the cron re-syncs the rest (worker/cron/resync.ts).
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { db } from "../db/client";
import { bumpSecretUsers, pipelinesUsingSecret } from "../db/pipelines";
import { type SyncScope, syncStoredSchedule } from "./request";

/** The revision bump for the pipelines whose webhooks verify with the tenant secret `name`. */
export { bumpSecretUsers };

/**
 * Pipelines synced at once after a tenant secret changed (one request may make only so many
 * subrequests); the rest had their revision bumped with the change, so the cron re-syncs them.
 */
const SECRET_RESYNC_LIMIT = 50;

/**
 * A tenant secret was written or deleted (and the using pipelines' revisions bumped in that batch):
 * the objects of pipelines whose webhooks verify with it get the new ciphertext (or none). One that
 * fails, or one beyond SECRET_RESYNC_LIMIT, is left behind its revision: the cron re-syncs it within
 * minutes (worker/cron/resync.ts); until then its webhooks verify with the old value.
 */
export async function resyncSecretUsers(c: Context<AppEnv>, scope: SyncScope, name: string): Promise<void> {
  const users = await pipelinesUsingSecret(db(c.env.DB), scope.tenant.id, name, SECRET_RESYNC_LIMIT);
  await Promise.all(
    users.map((pipeline) =>
      syncStoredSchedule(c, scope, pipeline).catch((error: unknown) =>
        console.error("webhook secret not synced to its pipeline yet", pipeline.slug, error),
      ),
    ),
  );
}
