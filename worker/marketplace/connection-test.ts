/**
 * "Test connection": the plugin's signed `POST {base}/connection/test` (PROTOCOL.md §6) with the
 * installation's settings. Whatever the plugin answers becomes `{ok, detail}`; a plugin that hangs,
 * redirects, or answers garbage is a failed test with a reason, and a secret the plugin echoes back
 * into its detail is masked before anyone sees it.
 */
import { type ConnectionTest, ConnectionTestResult } from "@updraft/plugin-sdk/protocol";
import { transportFor } from "../pipeline/plugins";
import { readLimited } from "../read-limited";
import { redact } from "../redact";
import { signRequest } from "../runner/sign";
import type { PluginTransport } from "../runner/transport";
import { MASK } from "./connection";

export const CONNECTION_TEST_MS = 15_000;
const MAX_ANSWER_BYTES = 64 * 1024;
const MAX_DETAIL_CHARS = 1_000;

export type TestResult = { ok: boolean; detail: string };

/** A plugin version's transport and the name it publishes, which the signed test body names. */
export type ConnectionTarget = PluginTransport & { readonly plugin: string };

/**
 * How a version is reached, as a run would reach it (pipeline/plugins.ts transportFor: the same
 * private-network rule): its published base URL or its first-party binding; a reason when it cannot be.
 */
export function transportOf(
  env: Env,
  where: { base_url: string | null; binding: string | null; manifest: { name: string } },
): ConnectionTarget | string {
  const plugin = where.manifest.name;
  const endpoint =
    where.base_url !== null
      ? { base_url: where.base_url }
      : where.binding !== null
        ? { binding: where.binding }
        : null;
  if (!endpoint) return `plugin ${plugin} has no endpoint`;
  const transport = transportFor(env, { plugin, endpoint });
  return typeof transport === "string" ? transport : { ...transport, plugin };
}

export async function testConnection(
  env: Env,
  transport: ConnectionTarget,
  settings: Record<string, unknown>,
  secrets: readonly unknown[],
): Promise<TestResult> {
  // `plugin` names the recipient inside the signed body (PROTOCOL.md §6): the published plugin's name,
  // whatever the installation is called.
  const body = JSON.stringify({ connection: settings, plugin: transport.plugin } satisfies ConnectionTest);
  let response: Response;
  try {
    const signed = await signRequest(env.SIGNING_KEY, body, new Date());
    response = await transport.fetch("/connection/test", {
      method: "POST",
      headers: { "content-type": "application/json", ...signed },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(CONNECTION_TEST_MS),
    });
  } catch (error) {
    const timedOut = error instanceof Error && error.name === "TimeoutError";
    return failed(
      timedOut
        ? `${transport.label} did not answer within ${CONNECTION_TEST_MS} ms`
        : `${transport.label} could not be reached: ${messageOf(error)}`,
    );
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    return failed(`${transport.label} answered ${response.status} to the connection test`);
  }
  let bytes: Uint8Array;
  try {
    const read = await readLimited(response, MAX_ANSWER_BYTES);
    if (read.tooLarge) return failed(`${transport.label}'s answer to the connection test is too large`);
    bytes = read.body;
  } catch (error) {
    return failed(
      `${transport.label}'s answer to the connection test could not be read: ${messageOf(error)}`,
    );
  }
  const parsed = ConnectionTestResult.safeParse(parseJson(new TextDecoder().decode(bytes)));
  if (!parsed.success)
    return failed(`${transport.label} answered the connection test with something other than {ok, detail}`);
  return { ok: parsed.data.ok, detail: scrub(parsed.data.detail, secrets) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The detail, bounded, with any secret value it repeats masked. */
function scrub(detail: string, secrets: readonly unknown[]): string {
  // Cut after masking: a secret across the cut would otherwise leave a prefix of itself behind.
  return redact(detail, secrets, MASK).slice(0, MAX_DETAIL_CHARS);
}

function failed(detail: string): TestResult {
  return { ok: false, detail };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
