/** The engine's copy of the core operators' timeouts and context flags matches the plugin's manifest. */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { parseDuration } from "../../worker/engine";
import { CONTEXT_OPERATORS, CORE_OPERATOR_TIMEOUTS_MS } from "../../worker/pipeline/plans";

type Entry = { name: string; timeout: string; context?: true };

it("keeps the core operators' timeouts and context flags in step with the core manifest", async () => {
  const response = await env.PLUGIN_CORE.fetch("https://core.internal/manifest");
  expect(response.status).toBe(200);
  const { operators } = (await response.json()) as { operators: Entry[] };
  const timeouts = Object.fromEntries(operators.map((o) => [o.name, parseDuration(o.timeout)]));
  expect(timeouts).toEqual(CORE_OPERATOR_TIMEOUTS_MS);
  const withContext = operators.filter((o) => o.context).map((o) => `core/${o.name}`);
  expect(new Set(withContext)).toEqual(CONTEXT_OPERATORS);
});
