/**
 * A fake remote service on 127.0.0.1 for the http operator: the Worker under test reaches it over
 * real TCP, the same path production traffic takes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    targetPort: number;
    otherTargetPort: number;
  }
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://target");
  const body = await bodyOf(request);
  const param = (name: string) => url.searchParams.get(name);
  switch (url.pathname) {
    case "/echo":
      response.writeHead(200, { "content-type": "application/json", "x-target": "yes" });
      response.end(
        JSON.stringify({ method: request.method, headers: request.headers, query: url.search, body }),
      );
      return;
    case "/text":
      response.writeHead(200, { "content-type": "text/plain" });
      response.end("plain words");
      return;
    case "/status": {
      const retryAfter = param("retry_after");
      response.writeHead(Number(param("code") ?? "500"), {
        "content-type": "application/json",
        ...(retryAfter ? { "retry-after": retryAfter } : {}),
      });
      response.end(param("empty") ? "" : JSON.stringify({ error: "as requested" }));
      return;
    }
    case "/big":
      response.writeHead(200, { "content-type": "text/plain" });
      response.end("x".repeat(2 * 1024 * 1024));
      return;
    case "/big-chunked":
      // No content-length: the body arrives chunked and is only known to be too big while reading.
      response.writeHead(200, { "content-type": "text/plain" });
      response.write("x".repeat(1024 * 1024));
      response.end("x".repeat(1024 * 1024));
      return;
    case "/big-gzip": {
      // A small declared length whose decoded body is 2 MiB.
      const packed = gzipSync("x".repeat(2 * 1024 * 1024));
      response.writeHead(200, {
        "content-type": "text/plain",
        "content-encoding": "gzip",
        "content-length": String(packed.length),
      });
      response.end(packed);
      return;
    }
    case "/redirect":
      response.writeHead(Number(param("code") ?? "302"), { location: param("to") ?? "/echo" });
      response.end();
      return;
    case "/export": {
      // An export that is running until `ready_at` (ms since the epoch), then done.
      const done = Date.now() >= Number(param("ready_at") ?? "0");
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(done ? { state: "done", rows: 3 } : { state: "running" }));
      return;
    }
    case "/slow":
      setTimeout(() => response.end("late"), Number(param("ms") ?? "2000"));
      return;
    default:
      response.writeHead(404);
      response.end();
  }
}

async function listen(): Promise<Server> {
  const server = createServer((request, response) => {
    answer(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

// Two ports are two origins: redirects between them are cross-origin hops to a real server.
export default async function setup(project: TestProject) {
  const [server, other] = await Promise.all([listen(), listen()]);
  project.provide("targetPort", (server.address() as AddressInfo).port);
  project.provide("otherTargetPort", (other.address() as AddressInfo).port);
  return async () => {
    await Promise.all([close(server), close(other)]);
  };
}
