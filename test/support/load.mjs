// A mixed load against the running product, as one signed-in owner and an API token would send it:
// reads (a pipeline, its runs, /api/me, /api/health), writes (a secret), run starts and sign-ins, at a
// fixed concurrency. One request in 50 is abandoned by the client after a few milliseconds, as a browser
// that navigates away would: the runtime cancels it mid-flight, and nothing it held may stay held. Used by the CI load test (test/e2e/load.test.mjs) and by `npm run bench`.
// Traffic goes only to the product under test on 127.0.0.1; the loop is bounded in count and time.

const PIPELINE_SPEC = {
  name: "Load",
  tasks: [{ id: "a", uses: "core/noop@^1" }],
};

/**
 * Signs a user up, creates a tenant, an API token and a one-task pipeline.
 * @param {string} base e.g. http://127.0.0.1:PORT
 * @param {string} tag makes the user and tenant unique
 */
export async function prepareLoad(base, tag) {
  const email = `load-${tag}@example.com`;
  const password = "load test password";
  const signUp = await fetch(`${base}/api/auth/sign-up/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "Load", email, password }),
  });
  if (!signUp.ok) throw new Error(`sign-up answered ${signUp.status}: ${await signUp.text()}`);
  const cookie = signUp.headers.get("set-cookie")?.split(";")[0] ?? "";
  const tenant = `load-${tag}`.toLowerCase().slice(0, 40);
  const asUser = async (method, path, body) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { cookie, origin: base, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!response.ok)
      throw new Error(`${method} ${path} answered ${response.status}: ${await response.text()}`);
    return response.json();
  };
  await asUser("POST", "/api/tenants", { slug: tenant, name: "Load" });
  const { token } = await asUser("POST", `/api/tenants/${tenant}/tokens`, { name: "load", role: "admin" });
  await asUser("PUT", `/api/tenants/${tenant}/pipelines/load`, PIPELINE_SPEC);
  return { base, email, password, cookie, token, tenant, pipeline: "load" };
}

/**
 * The mix, by share of requests: mostly reads, some writes and run starts, a few sign-ins (each one
 * costs a password hash).
 * @param {Awaited<ReturnType<typeof prepareLoad>>} s
 * @param {number} i
 * @returns {{ kind: string, method: string, path: string, headers: Record<string, string>, body?: string, abandonAfterMs?: number }}
 */
function requestOf(s, i) {
  if (i % 50 === 7) return { ...requestOf(s, i + 1), kind: "abandoned", abandonAfterMs: 1 + (i % 9) };
  const asUser = { cookie: s.cookie, origin: s.base };
  const asToken = { authorization: `Bearer ${s.token}` };
  const json = { "content-type": "application/json" };
  const pipeline = `/api/tenants/${s.tenant}/pipelines/${s.pipeline}`;
  const slot = i % 100;
  if (slot < 25) return { kind: "read", method: "GET", path: pipeline, headers: asUser };
  if (slot < 45) return { kind: "read", method: "GET", path: `${pipeline}/runs`, headers: asToken };
  if (slot < 65) return { kind: "read", method: "GET", path: "/api/me", headers: asUser };
  if (slot < 80) return { kind: "read", method: "GET", path: "/api/health", headers: {} };
  if (slot < 90) {
    const body = JSON.stringify({ value: `v${i}` });
    const path = `/api/tenants/${s.tenant}/secrets/LOAD_${i % 7}`;
    return { kind: "write", method: "PUT", path, headers: { ...asToken, ...json }, body };
  }
  if (slot < 99)
    return {
      kind: "run",
      method: "POST",
      path: `${pipeline}/runs`,
      headers: { ...asToken, ...json },
      body: "{}",
    };
  const body = JSON.stringify({ email: s.email, password: s.password });
  return { kind: "sign-in", method: "POST", path: "/api/auth/sign-in/email", headers: json, body };
}

const percentile = (sorted, q) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

/**
 * Sends `total` requests of the mix at `concurrency`, each with its own `timeoutMs`, and stops early
 * once `deadlineMs` has passed. Counts answers by status; a request that did not answer (timeout,
 * reset) counts as `failed`.
 * @param {Awaited<ReturnType<typeof prepareLoad>>} s
 * @param {{ total: number, concurrency: number, timeoutMs?: number, deadlineMs?: number }} options
 */
export async function runLoad(s, { total, concurrency, timeoutMs = 10_000, deadlineMs = 600_000 }) {
  /** @type {Map<number, number>} */
  const statuses = new Map();
  /** @type {string[]} */
  const samples = [];
  const latencies = [];
  /** @type {Map<string, number[]>} */
  const byKind = new Map();
  let failed = 0;
  let abandoned = 0;
  let next = 0;
  const started = performance.now();
  const stopAt = Date.now() + deadlineMs;
  const worker = async () => {
    while (next < total && Date.now() < stopAt) {
      const request = requestOf(s, next++);
      const t0 = performance.now();
      try {
        const response = await fetch(`${s.base}${request.path}`, {
          method: request.method,
          headers: request.headers,
          body: request.body,
          signal: AbortSignal.timeout(request.abandonAfterMs ?? timeoutMs),
        });
        const text = await response.text();
        const ms = performance.now() - t0;
        latencies.push(ms);
        const kindMs = byKind.get(request.kind) ?? [];
        kindMs.push(ms);
        byKind.set(request.kind, kindMs);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500 && samples.length < 5)
          samples.push(`${request.method} ${request.path} → ${response.status}: ${text.slice(0, 300)}`);
      } catch (error) {
        if (request.abandonAfterMs !== undefined) {
          abandoned += 1;
          continue;
        }
        failed += 1;
        if (samples.length < 5) samples.push(`${request.method} ${request.path} → ${String(error)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  const serverErrors = [...statuses].filter(([status]) => status >= 500).reduce((n, [, c]) => n + c, 0);
  return {
    sent: next,
    answered: latencies.length,
    abandoned,
    failed,
    serverErrors,
    statuses: Object.fromEntries(statuses),
    samples,
    perSecond: latencies.length / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    p50ByKind: Object.fromEntries(
      [...byKind].map(([kind, ms]) => [
        kind,
        percentile(
          ms.sort((a, b) => a - b),
          0.5,
        ),
      ]),
    ),
  };
}
