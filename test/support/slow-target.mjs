// A remote HTTP service for the durability test, living in the test's own process so it outlives the
// product: it records every request (path, `Idempotency-Key`, arrival time) and holds `/slow/…`
// requests for `holdMs` before answering, so plugin calls are still in flight when the product dies.
import { createServer } from "node:http";

/**
 * @typedef {{ path: string, key: string | null, at: number, answered: boolean }} TargetRequest
 */

/** @param {{ holdMs?: number }} [options] */
export async function startSlowTarget({ holdMs = 3_000 } = {}) {
  /** @type {TargetRequest[]} */
  const requests = [];
  /** Held responses whose caller is still connected. @type {Set<import("node:http").ServerResponse>} */
  const held = new Set();
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://target").pathname;
    const key = request.headers["idempotency-key"];
    /** @type {TargetRequest} */
    const seen = { path, key: typeof key === "string" ? key : null, at: Date.now(), answered: false };
    requests.push(seen);
    // The product may die while we hold the request: its socket closes and there is no one to answer.
    let gone = false;
    response.on("close", () => {
      gone = true;
      held.delete(response);
    });
    response.on("error", () => {});
    const answer = () => {
      held.delete(response);
      if (gone) return;
      seen.answered = true;
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ path }));
    };
    if (path.startsWith("/slow/")) {
      held.add(response);
      setTimeout(answer, holdMs);
    } else answer();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Paths of the requests held right now whose caller is still connected. */
    inFlight: () => [...held].map((response) => new URL(response.req.url ?? "/", "http://target").pathname),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve(undefined));
      }),
  };
}
