/**
 * A conformance check any plugin author can run against a URL: it speaks protocol v1 to the plugin
 * the way the platform would, including the requests the platform must see refused.
 */
import { ManifestShape, violatingInput } from "./conformance-manifest.ts";
import { describeIssues, issuesOf } from "./issues.ts";
import { signInvocation } from "./sign.ts";

export interface ConformanceOptions {
  /** The private half of a key pair the plugin trusts (e.g. its `UPDRAFT_JWKS`). */
  privateJwk: JsonWebKey | string;
  /** Defaults to global `fetch`; tests pass a Worker's `exports.default.fetch`. */
  fetch?: (request: Request) => Promise<Response>;
}

/** A check passed, failed, or could not run against this plugin (it says why in `detail`). */
export type ConformanceStatus = "passed" | "failed" | "skipped";

export interface ConformanceCheck {
  check: string;
  status: ConformanceStatus;
  detail: string;
}

type Verdict = { ok: boolean; detail: string } | { skipped: true; detail: string };

type Send = (path: string, init: { body: string; headers: Record<string, string> }) => Promise<Answer>;
interface Answer {
  status: number;
  json: unknown;
}

function invocationBody(input: Record<string, unknown>): string {
  const now = Date.now();
  const id = crypto.randomUUID();
  return JSON.stringify({
    invocation_id: `conformance-${id}`,
    idempotency_key: `conformance-${id}`,
    attempt: 1,
    tenant: "conformance",
    pipeline: "conformance",
    run: "conformance",
    task: "conformance",
    map_index: -1,
    logical_date: new Date(now).toISOString(),
    input,
    connection: {},
    callback_url: "https://updraft.invalid/callbacks/conformance",
    deadline: new Date(now + 30_000).toISOString(),
    task_started_at: new Date(now).toISOString(),
  });
}

const field = (json: unknown, name: string): unknown =>
  typeof json === "object" && json !== null && name in json
    ? (json as Record<string, unknown>)[name]
    : undefined;

function expect401(answer: Answer): Verdict {
  const shaped = field(answer.json, "status") === "failure";
  const ok = answer.status === 401 && shaped;
  return {
    ok,
    detail: `answered ${answer.status}${shaped ? " with a failure body" : " without a failure body"}`,
  };
}

/**
 * Runs every check against the plugin at `baseUrl` and lists the results; never throws for a
 * misbehaving plugin (a network error becomes a failed check).
 *
 * @example
 * const results = await runConformance("https://plugin.example.com", { privateJwk });
 * for (const r of results) console.log(r.ok ? "✓" : "✗", r.check, "—", r.detail);
 */
export async function runConformance(
  baseUrl: string,
  options: ConformanceOptions,
): Promise<ConformanceCheck[]> {
  const fetcher = options.fetch ?? ((request: Request) => fetch(request));
  const base = baseUrl.replace(/\/+$/, "");
  const send: Send = async (path, init) => {
    const response = await fetcher(new Request(`${base}${path}`, { method: "POST", ...init }));
    return { status: response.status, json: await response.json().catch(() => undefined) };
  };
  const sign = (body: string, timestamp?: number) =>
    signInvocation({ privateJwk: options.privateJwk, body, timestamp });
  const results: ConformanceCheck[] = [];
  const record = async (check: string, run: () => Promise<Verdict>) => {
    try {
      const verdict = await run();
      const status = "skipped" in verdict ? "skipped" : verdict.ok ? "passed" : "failed";
      results.push({ check, status, detail: verdict.detail });
    } catch (thrown) {
      results.push({ check, status: "failed", detail: `request failed: ${String(thrown)}` });
    }
  };

  let manifest: ManifestShape | undefined;
  await record("manifest is valid protocol 1", async () => {
    const response = await fetcher(new Request(`${base}/manifest`));
    if (response.status !== 200) return { ok: false, detail: `GET /manifest answered ${response.status}` };
    const parsed = ManifestShape.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) return { ok: false, detail: describeIssues(issuesOf(parsed.error)) };
    manifest = parsed.data;
    return {
      ok: true,
      detail: `${manifest.name}@${manifest.version}, ${manifest.operators.length} operators`,
    };
  });
  const first = manifest?.operators[0];
  if (!manifest || !first) return results;
  const path = `/operators/${first.name}`;
  const body = invocationBody({});

  await record("unsigned request is refused with 401", async () =>
    expect401(await send(path, { body, headers: { "content-type": "application/json" } })),
  );
  await record("stale timestamp is refused with 401", async () =>
    expect401(await send(path, { body, headers: await sign(body, Math.floor(Date.now() / 1000) - 600) })),
  );
  await record("tampered body is refused with 401", async () =>
    expect401(await send(path, { body: body.replace("conformance", "tampered"), headers: await sign(body) })),
  );
  await record("malformed invocation is refused with 4xx (not 401)", async () => {
    const bad = JSON.stringify({ invocation_id: 42 });
    const answer = await send(path, { body: bad, headers: await sign(bad) });
    const ok = answer.status >= 400 && answer.status < 500 && answer.status !== 401;
    return {
      ok,
      detail: `answered ${answer.status}${answer.status === 401 ? ": is the signing key trusted?" : ""}`,
    };
  });
  await record("input violating the schema fails without retry", async () => {
    const target = manifest?.operators.find((op) => violatingInput(op.input) !== null);
    const input = target ? violatingInput(target.input) : null;
    if (!target || !input) return { skipped: true, detail: "every operator accepts any input" };
    const invalid = invocationBody(input);
    const answer = await send(`/operators/${target.name}`, { body: invalid, headers: await sign(invalid) });
    const ok = answer.status === 200 && field(answer.json, "status") === "failure";
    const retryable = field(answer.json, "retryable");
    return {
      ok: ok && retryable === false,
      detail: `${target.name}: ${answer.status}, retryable=${String(retryable)}`,
    };
  });
  await record("connection test answers {ok, detail}", async () => {
    const test = JSON.stringify({ connection: {} });
    const answer = await send("/connection/test", { body: test, headers: await sign(test) });
    const ok = answer.status === 200 && typeof field(answer.json, "ok") === "boolean";
    return {
      ok: ok && typeof field(answer.json, "detail") === "string",
      detail: `answered ${answer.status}`,
    };
  });
  return results;
}
