/**
 * First-party plugins are the service bindings named `PLUGIN_*` in wrangler.toml; each is published
 * into the marketplace from its own manifest (no catalogue entry is written by hand, and no plugin is
 * named here). An isolate publishes them before it first shows the marketplace, and again at most
 * every REPUBLISH_MS, so a deploy with a new plugin version shows it; so does every save and sync a
 * request makes (marketplace/resolve.ts). The cron does not: its subrequests are budgeted.
 */
import { firstPartyBindings, serviceTransport } from "../runner/transport";
import { readManifest } from "./manifest-reader";
import { publish } from "./registry";

export const REPUBLISH_MS = 10 * 60_000;
const RETRY_MS = 60_000;

/** When this isolate last published every first-party plugin (a settled time, never a promise). */
let publishedAt = Number.NEGATIVE_INFINITY;

/** Publishes each first-party plugin's current manifest; one that cannot be read is logged and skipped. */
export async function publishFirstParty(env: Env, now = Date.now()): Promise<void> {
  if (now - publishedAt < REPUBLISH_MS) return;
  let failed = false;
  for (const [binding, fetcher] of firstPartyBindings(env)) {
    const label = binding.slice("PLUGIN_".length).toLowerCase();
    const read = await readManifest(serviceTransport(label, fetcher));
    if (!read.ok) {
      failed = true;
      console.error("first-party plugin not published", binding, read.detail, read.errors);
      continue;
    }
    const outcome = await publish(env.DB, {
      manifest: read.manifest,
      endpoint: { binding },
      publisher: null,
      actor: "updraft",
      visibility: "public",
    });
    if (outcome.kind === "conflict" || outcome.kind === "limit") {
      failed = true;
      console.error("first-party plugin not published", binding, outcome.detail);
    }
  }
  // A plugin that cannot be published now is tried again in a minute, not on every request.
  publishedAt = failed ? now - REPUBLISH_MS + RETRY_MS : now;
}
