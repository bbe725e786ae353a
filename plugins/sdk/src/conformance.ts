/**
 * A conformance check any plugin author can run against a URL: it speaks protocol v1 to the plugin
 * the way the platform would, including the requests the platform must see refused, and calls every
 * operator once with a sample input built from its schema (run it against a test deployment).
 */

import { expect401, field, judgeResult, type PluginAnswer, summary } from "./conformance-answers.ts";
import { ManifestShape, sampleInput, violatingInput } from "./conformance-manifest.ts";
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

type Send = (path: string, init: { body: string; headers: Record<string, string> }) => Promise<PluginAnswer>;

/** How long an invocation may run (its deadline), and how much longer the check waits for the answer. */
const DEADLINE_MS = 30_000;
const GRACE_MS = 5_000;
/** Sample calls in flight at once. */
const SAMPLE_CONCURRENCY = 4;

function invocationBody(input: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
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
    deadline: new Date(now + DEADLINE_MS).toISOString(),
    task_started_at: new Date(now).toISOString(),
    ...extra,
  });
}

/** Runs `work` over `items` with at most `limit` at once; results in the order of `items`. */
async function inOrder<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Runs every check against the plugin at `baseUrl` and lists the results; never throws for a
 * misbehaving plugin (a network error becomes a failed check).
 *
 * @example
 * const results = await runConformance("https://plugin.example.com", { privateJwk });
 * for (const r of results) console.log(r.status, r.check, "—", r.detail);
 */
export async function runConformance(
  baseUrl: string,
  options: ConformanceOptions,
): Promise<ConformanceCheck[]> {
  const fetcher = options.fetch ?? ((request: Request) => fetch(request));
  const base = baseUrl.replace(/\/+$/, "");
  const send: Send = async (path, init) => {
    const signal = AbortSignal.timeout(DEADLINE_MS + GRACE_MS);
    const response = await fetcher(new Request(`${base}${path}`, { method: "POST", signal, ...init }));
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, text, json };
  };
  const sign = (body: string, timestamp?: number) =>
    signInvocation({ privateJwk: options.privateJwk, body, timestamp });
  const signedSend = async (path: string, body: string) => send(path, { body, headers: await sign(body) });
  const results: ConformanceCheck[] = [];
  const judge = async (check: string, run: () => Promise<Verdict>): Promise<ConformanceCheck> => {
    try {
      const verdict = await run();
      const status = "skipped" in verdict ? "skipped" : verdict.ok ? "passed" : "failed";
      return { check, status, detail: verdict.detail };
    } catch (thrown) {
      return { check, status: "failed", detail: `request failed: ${String(thrown)}` };
    }
  };
  const record = async (check: string, run: () => Promise<Verdict>) => {
    results.push(await judge(check, run));
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
  const { name: plugin, operators, connection: connectionSchema } = manifest;
  // Every request names its recipient, as the platform's do (PROTOCOL.md §3).
  const addressed = { plugin };
  const path = `/operators/${first.name}`;
  const body = invocationBody({}, addressed);

  await record("unsigned request is refused with 401", async () =>
    expect401(await send(path, { body, headers: { "content-type": "application/json" } })),
  );
  await record("stale timestamp is refused with 401", async () =>
    expect401(await send(path, { body, headers: await sign(body, Math.floor(Date.now() / 1000) - 600) })),
  );
  await record("tampered body is refused with 401", async () =>
    expect401(await send(path, { body: body.replace("conformance", "tampered"), headers: await sign(body) })),
  );
  await record("a request addressed to another plugin is refused with 401", async () => {
    const other = plugin === "conformance-other" ? "conformance-another" : "conformance-other";
    return expect401(await signedSend(path, invocationBody({}, { plugin: other })));
  });
  await record("a replayed request is refused with 401", async () => {
    // The connection test changes nothing, so sending it twice is safe against any plugin.
    const test = JSON.stringify({ connection: {}, ...addressed });
    const headers = await sign(test);
    const once = await send("/connection/test", { body: test, headers });
    if (once.status === 401) {
      return {
        ok: false,
        detail: `the first request answered ${summary(once)}: is the signing key trusted?`,
      };
    }
    const twice = await send("/connection/test", { body: test, headers });
    const verdict = expect401(twice);
    return { ok: verdict.ok, detail: `the first answered ${summary(once)}, the repeat ${summary(twice)}` };
  });
  await record("malformed invocation is refused with 4xx (not 401)", async () => {
    const answer = await signedSend(path, JSON.stringify({ invocation_id: 42 }));
    const ok = answer.status >= 400 && answer.status < 500 && answer.status !== 401;
    return {
      ok,
      detail: `answered ${summary(answer)}${answer.status === 401 ? ": is the signing key trusted?" : ""}`,
    };
  });
  await record("input violating the schema fails without retry", async () => {
    const target = operators.find((op) => violatingInput(op.input) !== null);
    const input = target ? violatingInput(target.input) : null;
    if (!target || !input) return { skipped: true, detail: "every operator accepts any input" };
    const answer = await signedSend(`/operators/${target.name}`, invocationBody(input, addressed));
    const ok = answer.status === 200 && field(answer.json, "status") === "failure";
    const retryable = field(answer.json, "retryable");
    return {
      ok: ok && retryable === false,
      detail: `${target.name}: ${answer.status}, retryable=${String(retryable)}`,
    };
  });
  // Settings the connection schema accepts, so the sample calls get past it to the operator's own code.
  const connection = sampleInput(connectionSchema);
  const samples = await inOrder(operators, SAMPLE_CONCURRENCY, (op) =>
    judge(`operator ${op.name} answers a sample call`, async () => {
      const sample = invocationBody(sampleInput(op.input), { ...addressed, connection });
      return judgeResult(await signedSend(`/operators/${op.name}`, sample));
    }),
  );
  results.push(...samples);
  await record("connection test answers {ok, detail}", async () => {
    const answer = await signedSend("/connection/test", JSON.stringify({ connection: {}, ...addressed }));
    const ok = answer.status === 200 && typeof field(answer.json, "ok") === "boolean";
    return {
      ok: ok && typeof field(answer.json, "detail") === "string",
      detail: `answered ${summary(answer)}`,
    };
  });
  return results;
}
