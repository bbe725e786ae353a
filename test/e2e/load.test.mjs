// The product holds load: a mixed stream of reads, writes, run starts and sign-ins at concurrency 8
// gets no answer >= 500 and no request left hanging, and the product answers normally afterwards.
// Before worker/db/client.ts dropped Kysely's one-connection mutex, the runtime wedged after a few
// thousand such requests: every D1 query from then on hung until the process restarted.
// `npm run bench` runs the same mix with 20,000 requests and prints its throughput.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { prepareLoad, runLoad } from "../support/load.mjs";
import { startServer } from "../support/server.mjs";

const TOTAL = Number(process.env.LOAD_REQUESTS ?? 10_000);

/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

test(`${TOTAL} mixed requests at concurrency 8: no answer >= 500, none hangs, and the product answers after`, async () => {
  const setUp = await prepareLoad(`http://127.0.0.1:${server.port}`, String(Date.now()));
  const result = await runLoad(setUp, { total: TOTAL, concurrency: 8, timeoutMs: 15_000 });
  // On failure, what the product logged last says why (wrangler prints the Worker's errors).
  const summary = `${JSON.stringify(result)}\n--- product log (last lines) ---\n${server.log.slice(-60).join("")}`;
  assert.equal(result.sent, TOTAL, summary);
  assert.equal(result.failed, 0, summary);
  assert.equal(result.serverErrors, 0, summary);
  // Every kind of request got its expected answer, not just "no 5xx".
  assert.deepEqual(Object.keys(result.statuses).sort(), ["200", "201", "204"], summary);

  const me = await fetch(`${setUp.base}/api/me`, {
    headers: { cookie: setUp.cookie },
    signal: AbortSignal.timeout(5_000),
  });
  assert.equal(me.status, 200);
  const signIn = await fetch(`${setUp.base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: setUp.email, password: setUp.password }),
    signal: AbortSignal.timeout(5_000),
  });
  assert.equal(signIn.status, 200);
});
