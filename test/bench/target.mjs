// A local no-op HTTP target for the benchmark: records when each call arrives, answers at once
// (`/noop`) or after a delay (`/sleep?ms=100`).
import { createServer } from "node:http";

export async function startTarget() {
  /** @type {Map<string, number[]>} arrival times (performance.now) per tag */
  const arrivals = new Map();
  /** Called with each tagged arrival: waiting on them costs nothing per arrival but the callback. */
  const listeners = new Set();
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://target");
    const tag = url.searchParams.get("tag");
    if (tag) {
      const list = arrivals.get(tag) ?? [];
      list.push(performance.now());
      arrivals.set(tag, list);
      for (const listener of listeners) listener(tag);
    }
    const done = () => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end("{}");
    };
    if (url.pathname === "/sleep") setTimeout(done, Number(url.searchParams.get("ms") ?? "100"));
    else done();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    /**
     * Resolves once every tag has arrived at least once (true), or after `timeoutMs` (false).
     * @param {Iterable<string>} tags
     */
    allArrived(tags, timeoutMs) {
      const missing = new Set([...tags].filter((tag) => !arrivals.has(tag)));
      if (missing.size === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (/** @type {boolean} */ all) => {
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(all);
        };
        const listener = (/** @type {string} */ tag) => {
          if (missing.delete(tag) && missing.size === 0) done(true);
        };
        const timer = setTimeout(() => done(false), timeoutMs);
        listeners.add(listener);
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}
