/**
 * A live socket is authorised at the upgrade and rechecked while it stays open: a removed member, a
 * revoked token or an ended session loses its socket at the next check of the object's alarm.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PipelineDO } from "../../worker/pipeline/object";
import { addMember, type Client, ORIGIN, tokenFor } from "./helpers";
import { withPipeline } from "./runs-helpers";

const SPEC = { name: "Watched", tasks: [{ id: "a", uses: "core/noop@^1" }] };
const HEADER = "x-updraft-watcher";

type Closed = { code: number; reason: string };

/** A live socket opened through the Worker, with its close event and a ping that proves it still open. */
async function openLive(client: Client, path: string, headers: Record<string, string> = {}) {
  const auth: Record<string, string> = client.cookie
    ? { cookie: client.cookie }
    : { authorization: `Bearer ${client.token}` };
  const res = await exports.default.fetch(
    new Request(`${ORIGIN}${path}`, { headers: { upgrade: "websocket", ...auth, ...headers } }),
  );
  const socket = res.webSocket;
  if (res.status !== 101 || !socket) throw new Error(`no socket: ${res.status}`);
  let closedAs: Closed | null = null;
  const closed = new Promise<Closed>((resolve) =>
    socket.addEventListener("close", (event) => {
      closedAs = { code: event.code, reason: event.reason };
      resolve(closedAs);
    }),
  );
  const pongs: Array<() => void> = [];
  socket.addEventListener("message", (event) => {
    if (JSON.parse(String(event.data)).type === "pong") pongs.shift()?.();
  });
  socket.accept();
  return {
    closed,
    /** Open if the object still answers a ping: a close it sent before would have arrived first. */
    async isOpen(): Promise<boolean> {
      const pong = new Promise<void>((resolve) => pongs.push(resolve));
      socket.send("ping");
      await Promise.race([pong, closed]);
      return closedAs === null;
    },
    close: async () => {
      socket.close(1000, "done");
      await closed;
    },
  };
}

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The id of the API token a client holds. */
async function tokenId(client: Client): Promise<string> {
  const row = await env.DB.prepare("SELECT id FROM api_tokens WHERE token_hash = ?")
    .bind(await sha256(client.token ?? ""))
    .first<{ id: string }>();
  if (!row) throw new Error("no such token");
  return row.id;
}

const alarmAt = (stub: DurableObjectStub<PipelineDO>) =>
  runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());

/** The object's watchers and alarm budget, which tests shorten and stub. */
type Inner = {
  alarmWaitMs: number;
  watchers: { intervalMs: number; d1: D1Database };
  driver: { pump: object };
};

describe("live access ends with the access", () => {
  it("closes a removed member's socket with 4403 at the next alarm, and keeps the others' open", async () => {
    const p = await withPipeline(SPEC);
    const viewer = await addMember(p.owner, p.slug, "viewer");
    const theirs = await openLive(viewer.client, `${p.base}/live`);
    const owners = await openLive(p.owner, `${p.base}/live`);
    // A run finishing while they watch does not stop the rechecks.
    await p.start();
    expect((await p.owner.call("DELETE", `/api/tenants/${p.slug}/members/${viewer.userId}`)).status).toBe(
      204,
    );
    expect(await runDurableObjectAlarm(p.stub)).toBe(true);
    expect(await theirs.closed).toEqual({
      code: 4403,
      reason: "access ended: no longer a member of this tenant",
    });
    expect(await owners.isOpen()).toBe(true);
    await owners.close();
  });

  it("closes a revoked API token's socket with 4401", async () => {
    const p = await withPipeline(SPEC);
    const bot = await tokenFor(p.owner, p.slug, "viewer");
    const kept = await tokenFor(p.owner, p.slug, "viewer");
    const revoked = await openLive(bot, `${p.base}/live`);
    const other = await openLive(kept, `${p.base}/live`);
    const revoke = await p.owner.call("DELETE", `/api/tenants/${p.slug}/tokens/${await tokenId(bot)}`);
    expect(revoke.status).toBe(204);
    expect(await runDurableObjectAlarm(p.stub)).toBe(true);
    expect((await revoked.closed).code).toBe(4401);
    expect(await other.isOpen()).toBe(true);
    await other.close();
  });

  it("closes the socket of a session that signed out or expired with 4401", async () => {
    const p = await withPipeline(SPEC);
    const viewer = await addMember(p.owner, p.slug, "viewer");
    const signedOut = await openLive(viewer.client, `${p.base}/live`);
    const expiring = await openLive(p.owner, `${p.base}/live`);
    expect((await viewer.client.call("POST", "/api/auth/sign-out")).status).toBe(204);
    expect(await runDurableObjectAlarm(p.stub)).toBe(true);
    expect(await signedOut.closed).toEqual({
      code: 4401,
      reason: "access ended: signed out or session expired",
    });
    expect(await expiring.isOpen()).toBe(true);

    const hash = await sha256(decodeURIComponent(p.owner.cookie?.split("=")[1] ?? ""));
    const expired = await env.DB.prepare("UPDATE sessions SET expires_at = ? WHERE token_hash = ?")
      .bind(new Date(Date.now() - 1000).toISOString(), hash)
      .run();
    expect(expired.meta.changes).toBe(1);
    expect(await runDurableObjectAlarm(p.stub)).toBe(true);
    expect((await expiring.closed).code).toBe(4401);
  });

  it("ignores a watcher header the client sent: the Worker's own replaces it", async () => {
    const p = await withPipeline(SPEC);
    const viewer = await addMember(p.owner, p.slug, "viewer");
    // The viewer claims to be the tenant's API token, which stays valid after the viewer is removed.
    const bot = await tokenFor(p.owner, p.slug, "viewer");
    const tenant = await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?")
      .bind(p.slug)
      .first<{ id: string }>();
    const claim = { kind: "token", tokenId: await tokenId(bot), tenantId: tenant?.id };
    const spoofed = await openLive(viewer.client, `${p.base}/live`, { [HEADER]: JSON.stringify(claim) });
    const honest = await openLive(bot, `${p.base}/live`);
    expect((await p.owner.call("DELETE", `/api/tenants/${p.slug}/members/${viewer.userId}`)).status).toBe(
      204,
    );
    expect(await runDurableObjectAlarm(p.stub)).toBe(true);
    expect((await spoofed.closed).code).toBe(4403);
    expect(await honest.isOpen()).toBe(true);
    await honest.close();
  });

  it("arms the recheck alarm only while sockets are open", async () => {
    const p = await withPipeline(SPEC);
    await p.start();
    expect(await alarmAt(p.stub)).toBeNull();
    const watching = await openLive(p.owner, `${p.base}/live`);
    const armed = await alarmAt(p.stub);
    expect(armed).not.toBeNull();
    expect(armed ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(Date.now() + 10_000);
    // Each check while the socket is open brings the alarm back.
    expect(await runDurableObjectAlarm(p.stub)).toBe(true);
    expect(await alarmAt(p.stub)).not.toBeNull();
    await watching.close();
    // The last check finds no socket open and leaves no alarm behind.
    expect(await runDurableObjectAlarm(p.stub)).toBe(true);
    expect(await alarmAt(p.stub)).toBeNull();
  });

  it("closes nobody when D1 cannot answer, and closes at the next check that can", async () => {
    const p = await withPipeline(SPEC);
    const viewer = await addMember(p.owner, p.slug, "viewer");
    const socket = await openLive(viewer.client, `${p.base}/live`);
    expect((await p.owner.call("DELETE", `/api/tenants/${p.slug}/members/${viewer.userId}`)).status).toBe(
      204,
    );
    await runInDurableObject(p.stub, (instance) => {
      const { watchers } = instance as unknown as Inner;
      watchers.d1 = failingBatches(watchers.d1, 1);
    });
    expect(await runDurableObjectAlarm(p.stub)).toBe(true);
    expect(await socket.isOpen()).toBe(true);
    // The alarm's other work still ran and re-armed it for the next check.
    expect(await alarmAt(p.stub)).not.toBeNull();
    expect(await runDurableObjectAlarm(p.stub)).toBe(true);
    expect((await socket.closed).code).toBe(4403);
  });

  it("keeps checking while an alarm waits on plugin calls that do not finish", async () => {
    const p = await withPipeline(SPEC);
    const viewer = await addMember(p.owner, p.slug, "viewer");
    const socket = await openLive(viewer.client, `${p.base}/live`);
    expect((await p.owner.call("DELETE", `/api/tenants/${p.slug}/members/${viewer.userId}`)).status).toBe(
      204,
    );
    // The alarm's first check fails: only a check made during its wait can close the socket, and the
    // stuck plugin calls end only when it is closed.
    await runInDurableObject(p.stub, (instance) => {
      const inner = instance as unknown as Inner;
      inner.watchers.d1 = failingBatches(inner.watchers.d1, 1);
      inner.watchers.intervalMs = 20;
      inner.alarmWaitMs = 60_000;
      Object.defineProperty(inner.driver.pump, "busy", { get: () => true });
      Object.defineProperty(inner.driver.pump, "idle", { value: () => socket.closed.then(() => {}) });
    });
    let alarmDone = false;
    const alarm = runDurableObjectAlarm(p.stub).then(() => {
      alarmDone = true;
    });
    expect((await socket.closed).code).toBe(4403);
    expect(alarmDone).toBe(false);
    await alarm;
    // The pump stays stuck on purpose: no alarm may keep coming back after this test.
    await runInDurableObject(p.stub, (_instance, state) => state.storage.deleteAlarm());
  });
});

/** The object's D1, whose first `failures` batches fail as an unavailable database would. */
function failingBatches(d1: D1Database, failures: number): D1Database {
  let left = failures;
  const wrapped: Pick<D1Database, "prepare" | "batch"> = {
    prepare: (query) => d1.prepare(query),
    batch: (statements) =>
      left-- > 0 ? Promise.reject(new Error("D1 is unavailable")) : d1.batch(statements),
  };
  return wrapped as D1Database;
}
