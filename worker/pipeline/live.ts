/**
 * Dashboards watching a pipeline: hibernatable WebSockets accepted by the PipelineDO. Every state
 * change the planner publishes is sent, after its transaction committed, to every socket as JSON.
 * Sockets survive the object's hibernation; nothing about them is kept in memory: who each belongs to
 * is its serialized attachment, which watchers.ts rechecks while it is open.
 */
import { z } from "zod";
import type { Principal } from "../auth/principal";
import type { LiveEvent } from "../engine";
import type { DeliverySummary } from "../hooks/types";

/** A webhook delivery was recorded (worker/hooks): the delivery inspector lists it live. */
export type DeliveryEvent = { type: "delivery"; delivery: DeliverySummary; at: number };

/** Who a socket belongs to, as the Worker authorised it at the upgrade. */
export const Watcher = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("session"),
    sessionHash: z.string(),
    userId: z.string(),
    tenantId: z.string(),
  }),
  z.strictObject({ kind: z.literal("token"), tokenId: z.string(), tenantId: z.string() }),
]);
export type Watcher = z.infer<typeof Watcher>;

/** Set by the Worker on the upgrade it forwards (api/live.ts), over any value a client sent. */
export const WATCHER_HEADER = "x-updraft-watcher";

/** How a socket ends when its access did: 4401 means sign in again, 4403 no longer allowed here. */
export const ACCESS_ENDED = {
  session: { code: 4401, reason: "access ended: signed out or session expired" },
  token: { code: 4401, reason: "access ended: API token revoked" },
  membership: { code: 4403, reason: "access ended: no longer a member of this tenant" },
  unattributed: { code: 4401, reason: "access ended: reconnect to be authorised again" },
} as const;
export type AccessEnded = (typeof ACCESS_ENDED)[keyof typeof ACCESS_ENDED];

export function watcherOf(principal: Principal, tenantId: string): Watcher {
  switch (principal.kind) {
    case "user":
      return { kind: "session", sessionHash: principal.sessionHash, userId: principal.user.id, tenantId };
    case "token":
      return { kind: "token", tokenId: principal.token.id, tenantId };
    default: {
      const unreachable: never = principal;
      return unreachable;
    }
  }
}

export class Live {
  constructor(private readonly ctx: DurableObjectState) {}

  accept(request: Request): Response {
    const watcher = parseWatcher(request.headers.get(WATCHER_HEADER));
    if (!watcher) return new Response("the Worker did not say who is watching", { status: 400 });
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].serializeAttachment(watcher);
    pair[1].send(JSON.stringify({ type: "hello", at: Date.now() }));
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /** Open sockets and who each belongs to (null: accepted before watchers were recorded). */
  watching(): { socket: WebSocket; watcher: Watcher | null }[] {
    return this.ctx
      .getWebSockets()
      .filter((socket) => socket.readyState === WebSocket.OPEN)
      .map((socket) => {
        const parsed = Watcher.safeParse(socket.deserializeAttachment());
        return { socket, watcher: parsed.success ? parsed.data : null };
      });
  }

  end(socket: WebSocket, ended: AccessEnded): void {
    try {
      socket.close(ended.code, ended.reason);
    } catch {
      // Closed meanwhile from the other side.
    }
  }

  broadcast(events: readonly (LiveEvent | DeliveryEvent)[]): void {
    if (events.length === 0) return;
    const sockets = this.ctx.getWebSockets();
    if (sockets.length === 0) return;
    const messages = events.map((event) => JSON.stringify(event));
    for (const socket of sockets) {
      try {
        for (const message of messages) socket.send(message);
      } catch {
        // A socket that closed meanwhile; webSocketClose cleans it up.
      }
    }
  }
}

function parseWatcher(header: string | null): Watcher | null {
  if (header === null) return null;
  try {
    const parsed = Watcher.safeParse(JSON.parse(header));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
