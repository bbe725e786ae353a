/**
 * A plugin's manifest as the marketplace publishes it: read from a publication URL (anyone's server,
 * so bounded in size and time, never redirected, and kept off private networks outside local
 * development) or from a first-party service binding, then checked whole: the protocol's envelope,
 * a semver version, and every JSON Schema it carries (connection, each operator's input and output)
 * compiles with safe regular expressions, since the platform evaluates them on tenants' data.
 * Problems are paths into the manifest (`manifest.operators[1].input.properties.url`).
 */
import { privateNetworkAllowed, refusalFor } from "@updraft/plugin-sdk/network";
import { PublishedManifest, parseDuration } from "@updraft/plugin-sdk/protocol";
import validVersion from "semver/functions/valid.js";
import { jsonSchemaProblems } from "../engine/json-schema";
import { type FieldError, formatPath } from "../problem";
import { readLimited } from "../read-limited";
import type { PluginTransport } from "../runner/transport";

/** A publication's server gets this long to answer its manifest, body included. */
export const MANIFEST_FETCH_MS = 5_000;
/**
 * The marketplace keeps every version's manifest: far below the protocol's 1 MiB read limit, no
 * honest catalogue needs more, and a publisher's total is bounded too (registry.ts).
 */
export const MAX_PUBLISHED_MANIFEST_BYTES = 256 * 1024;
/** JSON nesting a manifest may have, and values in all: its schemas are walked and stored. */
const MAX_DEPTH = 64;
const MAX_VALUES = 50_000;

export type ReadManifest =
  | { ok: true; manifest: PublishedManifest; text: string }
  | { ok: false; detail: string; errors?: FieldError[] };

/**
 * The base URL a tenant publishes, checked before anything is fetched: http(s) without credentials,
 * query or fragment; https and a public host unless the private-network switch is on (local only).
 */
export function publicationUrl(
  raw: string,
  env: Env,
): { ok: true; base: string } | { ok: false; detail: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, detail: "The URL is not a valid absolute URL." };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return { ok: false, detail: "The URL must be an https URL." };
  if (url.username || url.password) return { ok: false, detail: "The URL must not carry credentials." };
  if (url.search || url.hash) return { ok: false, detail: "The URL must not have a query or fragment." };
  if (!privateNetworkAllowed(env)) {
    if (url.protocol !== "https:") return { ok: false, detail: "The URL must be an https URL." };
    const refusal = refusalFor(url);
    if (refusal) return { ok: false, detail: `The URL is not reachable from Updraft: ${refusal}.` };
  }
  return { ok: true, base: url.href.replace(/\/+$/, "") };
}

/** Reads and checks `{transport}/manifest`; every failure is a detail a plugin author can act on. */
export async function readManifest(transport: PluginTransport): Promise<ReadManifest> {
  const where = transport.label;
  let response: Response;
  try {
    response = await transport.fetch("/manifest", {
      method: "GET",
      headers: { accept: "application/json" },
      redirect: "manual",
      signal: AbortSignal.timeout(MANIFEST_FETCH_MS),
    });
  } catch (error) {
    return { ok: false, detail: `${where} could not be reached: ${messageOf(error)}.` };
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    const location = response.headers.get("location") ?? "nowhere";
    return {
      ok: false,
      detail: `${where}/manifest answered a redirect (${response.status} to ${location.slice(0, 200)}); publish the URL that serves the manifest itself.`,
    };
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    return { ok: false, detail: `${where}/manifest answered ${response.status}, not 200 with a manifest.` };
  }
  let text: string;
  try {
    const { body, tooLarge } = await readLimited(response, MAX_PUBLISHED_MANIFEST_BYTES);
    if (tooLarge)
      return {
        ok: false,
        detail: `${where}'s manifest is larger than ${MAX_PUBLISHED_MANIFEST_BYTES} bytes.`,
      };
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body);
  } catch (error) {
    return { ok: false, detail: `${where}'s manifest could not be read: ${messageOf(error)}.` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, detail: `${where}/manifest did not answer JSON; is it a protocol v1 plugin?` };
  }
  const checked = checkManifest(json);
  return checked.ok
    ? { ok: true, manifest: checked.manifest, text }
    : { ...checked, detail: `${where}'s manifest is not valid.` };
}

/** The envelope, the version and every schema of a manifest, each problem with its path. */
export function checkManifest(
  json: unknown,
): { ok: true; manifest: PublishedManifest } | { ok: false; errors: FieldError[] } {
  const shape = shapeProblem(json);
  if (shape) return { ok: false, errors: [{ path: "manifest", message: shape }] };
  const parsed = PublishedManifest.safeParse(json);
  if (!parsed.success) {
    const errors = parsed.error.issues.slice(0, 50).map((issue) => ({
      path: formatPath(["manifest", ...issue.path]),
      message: issue.message,
    }));
    return { ok: false, errors };
  }
  const manifest = parsed.data;
  const errors: FieldError[] = [];
  // Canonical only ("v1.0.0", " 1.0.0 " and build metadata would be other rows of the same version).
  if (validVersion(manifest.version) !== manifest.version || manifest.version.includes("+"))
    errors.push({ path: "manifest.version", message: "must be a semver version, e.g. 1.2.0" });
  errors.push(...misplacedSecrets(manifest.connection), ...catalogProblems(manifest));
  const schemas: Array<[Array<string | number>, unknown]> = [
    [["connection"], manifest.connection],
    ...manifest.operators.flatMap(
      (operator, i): Array<[Array<string | number>, unknown]> => [
        [["operators", i, "input"], operator.input],
        [["operators", i, "output"], operator.output],
      ],
    ),
  ];
  for (const [at, schema] of schemas) {
    for (const problem of jsonSchemaProblems(schema, { safeRegex: true }).slice(0, 10)) {
      errors.push({ path: formatPath(["manifest", ...at, ...problem.path]), message: problem.message });
    }
    if (errors.length >= 50) break;
  }
  return errors.length === 0 ? { ok: true, manifest } : { ok: false, errors };
}

/** The longest default timeout an operator may declare, as a spec's durations (a run has no end otherwise). */
const MAX_OPERATOR_TIMEOUT_MS = 30 * 86_400_000;
const ICON = /^(https:\/\/|data:image\/(png|svg\+xml|jpeg|gif|webp);base64,)/;

/**
 * What the runner and the dashboard rely on beyond the shape: at least one operator, each with a
 * timeout between 1 ms and 30 days (a missing deadline would let a 202 without callback hold a slot
 * forever), and an icon and homepage that are https (or an inline image), never `javascript:`.
 */
function catalogProblems(manifest: PublishedManifest): FieldError[] {
  const errors: FieldError[] = [];
  if (manifest.operators.length === 0)
    errors.push({ path: "manifest.operators", message: "a plugin needs at least one operator" });
  for (const [i, operator] of manifest.operators.entries()) {
    const ms = parseDuration(operator.timeout);
    if (ms === null || ms <= 0 || ms > MAX_OPERATOR_TIMEOUT_MS)
      errors.push({
        path: formatPath(["manifest", "operators", i, "timeout"]),
        message: "must be a duration between 1ms and 30d, e.g. 30s or 1h30m",
      });
  }
  if (manifest.icon !== null && !ICON.test(manifest.icon))
    errors.push({ path: "manifest.icon", message: "must be an https URL or a data:image/…;base64 URL" });
  if (manifest.homepage !== null && !manifest.homepage.startsWith("https://"))
    errors.push({ path: "manifest.homepage", message: "must be an https URL" });
  return errors.slice(0, 20);
}

/** Why a JSON value is too deep or too big to be a manifest, or null. An explicit stack: no recursion. */
function shapeProblem(json: unknown): string | null {
  const stack: Array<[unknown, number]> = [[json, 0]];
  let values = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (++values > MAX_VALUES) return `has more than ${MAX_VALUES} values`;
    if (depth > MAX_DEPTH) return `nests deeper than ${MAX_DEPTH} levels`;
    if (typeof value === "object" && value !== null)
      for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return null;
}

/**
 * `writeOnly` marks a secret only on a top-level property of the connection schema, where the
 * platform seals it; anywhere else (nested, behind a `$ref`) the value would be stored in clear.
 */
function misplacedSecrets(connection: Record<string, unknown>): FieldError[] {
  const errors: FieldError[] = [];
  const topLevel = new Set(
    Object.values((connection.properties as Record<string, unknown> | undefined) ?? {}).filter(
      (p) => typeof p === "object" && p !== null,
    ),
  );
  const stack: Array<[unknown, Array<string | number>]> = [[connection, []]];
  while (stack.length > 0 && errors.length < 10) {
    const [node, path] = stack.pop() as [unknown, Array<string | number>];
    if (typeof node !== "object" || node === null) continue;
    if ((node as { writeOnly?: unknown }).writeOnly === true && !topLevel.has(node))
      errors.push({
        path: formatPath(["manifest", "connection", ...path, "writeOnly"]),
        message: "secret fields must be top-level properties of the connection schema",
      });
    for (const [key, child] of Object.entries(node)) stack.push([child, [...path, key]]);
  }
  return errors;
}

function messageOf(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError")
    return `no answer within ${MANIFEST_FETCH_MS} ms`;
  return error instanceof Error ? error.message : String(error);
}
