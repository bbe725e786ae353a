/**
 * A stand-in for Slack's Web API on 127.0.0.1, speaking its wire format (Slack has no open-source
 * server to test against): `POST /api/{method}` with a bearer token and JSON, answered
 * `{ok: true, …}` / `{ok: false, error}` with HTTP 200, or 429 with Retry-After. What it knows:
 * the token `xoxb-good`, channels C0GENERAL and C0RATE (its first post is rate-limited), C0BOOM
 * (answers 500), C0GARBAGE (answers HTML) and C0SLOW (accepts the post, then answers after 3 s — a timeout for the caller).
 * `GET /messages` lists what was posted.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    slackPort: number;
  }
}

type Message = { channel: string; ts: string; text?: string; thread_ts?: string; metadata?: unknown };
const messages: Message[] = [];
const KNOWN = new Set(["C0GENERAL", "C0RATE", "C0BOOM", "C0SLOW", "C0GARBAGE"]);
let rateLimited = false;
let clock = 1_700_000_000;

function reply(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  response.end(JSON.stringify(body));
}

async function answer(request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? "/", "http://slack");
  if (request.method === "GET" && url.pathname === "/messages") return reply(response, 200, messages);
  const method = url.pathname.replace(/^\/api\//, "");
  let text = "";
  for await (const chunk of request) text += chunk;
  if (request.headers.authorization === undefined)
    return reply(response, 200, { ok: false, error: "not_authed" });
  if (request.headers.authorization !== "Bearer xoxb-good")
    return reply(response, 200, { ok: false, error: "invalid_auth" });
  // As Slack: write methods read a JSON body, read methods (GET) their query.
  const body: Record<string, unknown> =
    request.method === "GET"
      ? Object.fromEntries(url.searchParams)
      : (JSON.parse(text || "{}") as Record<string, unknown>);
  const channel = String(body.channel ?? "");
  switch (method) {
    case "auth.test":
      return reply(response, 200, { ok: true, team: "Updraft Test", user: "updraft-bot", team_id: "T0TEST" });
    case "chat.postMessage": {
      if (!KNOWN.has(channel)) return reply(response, 200, { ok: false, error: "channel_not_found" });
      if (channel === "C0BOOM") return reply(response, 500, { ok: false, error: "internal_error" });
      if (channel === "C0GARBAGE") {
        response.writeHead(200, { "content-type": "text/html" });
        return response.end("<html>upstream proxy error</html>");
      }
      if (channel === "C0RATE" && !rateLimited) {
        rateLimited = true;
        return reply(response, 429, { ok: false, error: "ratelimited" }, { "retry-after": "2" });
      }
      if (body.text === undefined && body.blocks === undefined)
        return reply(response, 200, { ok: false, error: "no_text" });
      const message: Message = {
        channel,
        ts: `${++clock}.000100`,
        text: body.text as string | undefined,
        thread_ts: body.thread_ts as string | undefined,
        metadata: body.metadata,
      };
      messages.push(message);
      const send = () => reply(response, 200, { ok: true, channel, ts: message.ts, message });
      if (channel === "C0SLOW") setTimeout(send, 3_000);
      else send();
      return;
    }
    case "chat.update": {
      const found = messages.find((m) => m.channel === channel && m.ts === body.ts);
      if (!found) return reply(response, 200, { ok: false, error: "message_not_found" });
      found.text = body.text as string | undefined;
      return reply(response, 200, { ok: true, channel, ts: found.ts, text: found.text });
    }
    case "conversations.history": {
      if (request.method !== "GET") return reply(response, 200, { ok: false, error: "invalid_arguments" });
      if (!KNOWN.has(channel)) return reply(response, 200, { ok: false, error: "channel_not_found" });
      // Replies in threads are not in a channel's history.
      const latest = messages
        .filter((m) => m.channel === channel && m.thread_ts === undefined)
        .reverse()
        .slice(0, Number(body.limit ?? 100));
      return reply(response, 200, { ok: true, messages: latest, has_more: false });
    }
    case "conversations.replies": {
      if (request.method !== "GET") return reply(response, 200, { ok: false, error: "invalid_arguments" });
      const thread = messages.filter(
        (m) => m.channel === channel && (m.ts === body.ts || m.thread_ts === body.ts),
      );
      if (thread.length === 0) return reply(response, 200, { ok: false, error: "thread_not_found" });
      return reply(response, 200, {
        ok: true,
        messages: thread.slice(0, Number(body.limit ?? 100)),
        has_more: false,
      });
    }
    default:
      return reply(response, 200, { ok: false, error: "unknown_method" });
  }
}

export default async function setup(project: TestProject) {
  const server = createServer((request, response) => {
    answer(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  project.provide("slackPort", (server.address() as AddressInfo).port);
  return () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
}
