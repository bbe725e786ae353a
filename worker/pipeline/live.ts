/**
 * Dashboards watching a pipeline: hibernatable WebSockets accepted by the PipelineDO. Every state
 * change the planner publishes is sent, after its transaction committed, to every socket as JSON.
 * Sockets survive the object's hibernation; nothing about them is kept in memory.
 */
import type { LiveEvent } from "../engine";

export class Live {
  constructor(private readonly ctx: DurableObjectState) {}

  accept(): Response {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    pair[1].send(JSON.stringify({ type: "hello", at: Date.now() }));
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  broadcast(events: readonly LiveEvent[]): void {
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
