/** `POST {base}/connection/test`: checks installation settings before the platform saves them. */

import { parseBody } from "./body.ts";
import type { Plugin } from "./define.ts";
import { errorMessage } from "./errors.ts";
import type { PluginHost } from "./host.ts";
import { describeIssues, issuesOf } from "./issues.ts";
import type { Outcome } from "./outcome.ts";
import { ConnectionTest } from "./protocol/index.ts";

const TEST_TIMEOUT_MS = 15_000;

export async function testConnection(plugin: Plugin, body: unknown, host: PluginHost): Promise<Outcome> {
  const request = parseBody(ConnectionTest, body);
  if (!request.ok) return request.outcome;
  const raw = request.value.connection ?? {};
  if (!plugin.connection) {
    return { kind: "connection_tested", ok: true, detail: "this plugin needs no connection settings" };
  }
  const parsed = plugin.connection.safeParse(raw);
  if (!parsed.success) {
    const detail = `settings violate the connection schema: ${describeIssues(issuesOf(parsed.error))}`;
    return { kind: "connection_tested", ok: false, detail };
  }
  if (!plugin.testConnection)
    return { kind: "connection_tested", ok: true, detail: "settings match the schema" };
  const settings = typeof parsed.data === "object" && parsed.data !== null ? { ...parsed.data } : {};
  try {
    const result = await plugin.testConnection(settings, {
      env: host.env,
      signal: AbortSignal.timeout(TEST_TIMEOUT_MS),
    });
    return { kind: "connection_tested", ok: result.ok === true, detail: String(result.detail) };
  } catch (thrown) {
    // A test that throws is a failed test, not a broken plugin: the user needs the reason.
    return { kind: "connection_tested", ok: false, detail: errorMessage(thrown) };
  }
}
