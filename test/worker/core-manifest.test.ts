/** The stand-in for objects not yet told their plugins matches what the core plugin declares. */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { parseDuration } from "../../worker/engine";
import { readManifest } from "../../worker/marketplace/manifest-reader";
import { LEGACY_CORE } from "../../worker/pipeline/plugins";
import { serviceTransport } from "../../worker/runner/transport";

type Entry = { name: string; timeout: string; context?: true };

it("keeps the legacy core binding's timeouts and context flags in step with the core manifest", async () => {
  const response = await env.PLUGIN_CORE.fetch("https://core.internal/manifest");
  expect(response.status).toBe(200);
  const { operators, version } = (await response.json()) as { operators: Entry[]; version: string };
  const declared = Object.fromEntries(
    operators.map((o) => [o.name, { timeout_ms: parseDuration(o.timeout), context: o.context === true }]),
  );
  expect(declared).toEqual(LEGACY_CORE.operators);
  expect(version).toBe(LEGACY_CORE.version);
});

it("publishes every first-party plugin: each PLUGIN_* binding's manifest passes the marketplace's checks", async () => {
  const names = Object.keys(env).filter((name) => name.startsWith("PLUGIN_"));
  expect(names.length).toBeGreaterThanOrEqual(6);
  for (const name of names) {
    const binding = (env as unknown as Record<string, Fetcher>)[name];
    const read = await readManifest(serviceTransport(name.slice(7).toLowerCase(), binding as Fetcher));
    expect(
      read.ok ? [] : [read.detail, ...(read.errors ?? []).map((e) => `${e.path}: ${e.message}`)],
      name,
    ).toEqual([]);
  }
});
