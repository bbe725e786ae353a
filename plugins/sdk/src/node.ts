/**
 * The Node host adapter, kept out of `index.ts` so a Worker bundle never pulls in `node:http`.
 * It converts between `node:http` and the Fetch API and calls the same protocol handler.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Plugin } from "./define.ts";
import { type HandlerOptions, handlePluginRequest } from "./handler.ts";
import { platformFetchFor } from "./host.ts";
import { MAX_BODY_BYTES } from "./protocol/index.ts";

export interface ServeNodeOptions extends HandlerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Read on every request; defaults to `process.env`. */
  env?: Record<string, unknown> | (() => Record<string, unknown>);
}

export interface NodePluginServer {
  /** `http://host:port` plus the base path: what to register with the platform. */
  url: string;
  port: number;
  /** Stops accepting requests and waits for background work (`ctx.background`) to finish. */
  close(): Promise<void>;
}

// Collected up front (bounded) so the handler sees an ordinary Fetch request with a byte body.
async function readAll(message: IncomingMessage): Promise<Uint8Array<ArrayBuffer>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of message) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    // Past the handler's limit the content no longer matters, only that it is too large.
    if (size <= MAX_BODY_BYTES) chunks.push(buffer);
    size += buffer.length;
  }
  return new Uint8Array(Buffer.concat(chunks));
}

async function toRequest(message: IncomingMessage, origin: string): Promise<Request> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(message.headers)) {
    if (typeof value === "string") headers.set(name, value);
    else if (Array.isArray(value)) for (const item of value) headers.append(name, item);
  }
  const method = message.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD";
  const body = hasBody ? await readAll(message) : null;
  headers.delete("content-length");
  return new Request(new URL(message.url ?? "/", origin), { method, headers, body });
}

async function writeResponse(response: Response, out: ServerResponse): Promise<void> {
  out.writeHead(response.status, Object.fromEntries(response.headers));
  out.end(new Uint8Array(await response.arrayBuffer()));
}

/**
 * Serves a plugin over `node:http` (for plugins that are not Workers, and for local tools).
 *
 * @example
 * const server = await serveNode(plugin, { port: 8790, env: { UPDRAFT_JWKS_URL: "https://updraft.example/.well-known/jwks.json" } });
 * console.log(`plugin at ${server.url}`);
 */
export async function serveNode(plugin: Plugin, options: ServeNodeOptions = {}): Promise<NodePluginServer> {
  const pending = new Set<Promise<unknown>>();
  const readEnv = () => {
    const env = options.env ?? process.env;
    return typeof env === "function" ? env() : { ...env };
  };
  const host = options.host ?? "127.0.0.1";
  const server = createServer((message, out) => {
    const env = readEnv();
    const waitUntil = (promise: Promise<unknown>) => {
      const tracked = promise.catch((thrown) =>
        console.error("updraft plugin: background work failed", thrown),
      );
      pending.add(tracked);
      void tracked.finally(() => pending.delete(tracked));
    };
    const origin = `http://${message.headers.host ?? host}`;
    toRequest(message, origin)
      .then((request) =>
        handlePluginRequest(
          plugin,
          request,
          { env, waitUntil, platformFetch: platformFetchFor(env) },
          options,
        ),
      )
      .then((response) => writeResponse(response, out))
      .catch((thrown) => {
        console.error("updraft plugin: could not answer", thrown);
        if (!out.headersSent) out.writeHead(500);
        out.end();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  const base = (options.basePath ?? "").replace(/\/+$/, "");
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}${base}`,
    port,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.allSettled([...pending]);
    },
  };
}
