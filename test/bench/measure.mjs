// What the benchmark's scenarios share: percentiles, the API, and waiting for runs (run.mjs, hooks.mjs).
export const p50 = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
};
/** Nearest-rank percentile: p99 of 300 samples is the 297th smallest. */
export const percentile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
};

export async function api(server, token, method, path, body, contentType = "application/json") {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": contentType }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${path} → ${response.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/**
 * Starts a run and waits for its end. While the measured part runs, nothing asks the product anything:
 * with `until` (a tag the target records) the wait is on the target's arrivals, in this process; only
 * then is the run polled, every `pollMs`, so the polls do not compete with the run for the runtime's one
 * thread. The end comes from the run's own `ended_at` (same machine clock as `startedAt`), not from when
 * a poll noticed it.
 */
export async function runToEnd(
  server,
  token,
  pipeline,
  { timeoutMs = 60_000, until, target, pollMs = 50, start } = {},
) {
  const startedAt = Date.now();
  const started = performance.now();
  // `start` (a webhook delivery, say) answers the run id; by default the API starts the run.
  const run = start
    ? { id: await start() }
    : await api(server, token, "POST", `/api/tenants/bench/pipelines/${pipeline}/runs`, {});
  const deadline = Date.now() + timeoutMs;
  const overdue = () => {
    if (Date.now() > deadline)
      throw new Error(`run ${run.id} of ${pipeline} did not finish in ${timeoutMs} ms`);
  };
  const detailOf = () => api(server, token, "GET", `/api/tenants/bench/pipelines/${pipeline}/runs/${run.id}`);
  if (until && target) {
    // A run that failed never makes the awaited call: look at it once a second, not every millisecond.
    let looked = performance.now();
    while (!target.arrivals.has(`${run.id}-${until}`)) {
      overdue();
      if (performance.now() - looked > 1000) {
        looked = performance.now();
        const { status } = await detailOf();
        if (status === "failed" || status === "cancelled")
          throw new Error(`run ${run.id} of ${pipeline} ended ${status}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }
  for (;;) {
    const detail = await detailOf();
    if (["success", "failed", "cancelled"].includes(detail.status)) {
      if (detail.status !== "success") throw new Error(`run ${run.id} of ${pipeline} ended ${detail.status}`);
      return { id: run.id, started, makespan: Date.parse(detail.ended_at) - startedAt };
    }
    overdue();
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Sequential round trips from this process to the no-op target, in ms. */
export async function loopbackSamples(target, count) {
  const samples = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await (await fetch(`${target.url}/noop`)).text();
    samples.push(performance.now() - t);
  }
  return samples;
}

/** Waits until the pipeline has no queued or running run (the object's own list, not D1). */
export async function settled(server, token, pipeline, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  const runs = `/api/tenants/bench/pipelines/${pipeline}/runs`;
  for (;;) {
    const [queued, running] = await Promise.all(
      ["queued", "running"].map((status) => api(server, token, "GET", `${runs}?status=${status}&limit=1`)),
    );
    if (queued.items.length === 0 && running.items.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${pipeline} still has runs going after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** How many runs of the pipeline have the status (paged through the API). */
export async function countRuns(server, token, pipeline, status) {
  let count = 0;
  let cursor = null;
  do {
    const page = await api(
      server,
      token,
      "GET",
      `/api/tenants/bench/pipelines/${pipeline}/runs?status=${status}&limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
    );
    count += page.items.length;
    cursor = page.next_cursor;
  } while (cursor);
  return count;
}

/** `BENCH_VERBOSE=1` prints every sample beside the p50: the runs of one scenario vary on a shared machine. */
export function samples(name, values) {
  if (process.env.BENCH_VERBOSE) console.log(`${name}: ${values.map((v) => v.toFixed(1)).join(" ")}`);
}
