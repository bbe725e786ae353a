/** The stand-in for objects not yet told their plugins matches what the core plugin declares. */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { parseDuration } from "../../worker/engine";
import { LEGACY_CORE } from "../../worker/pipeline/plugins";

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
