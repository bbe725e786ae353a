/**
 * A plugin Worker the platform reaches through a service binding: protocol v1 over HTTP (`fetch`) and
 * the same signed requests in batches over Workers RPC (`invoke`, PROTOCOL.md §8). Workers only: it
 * imports `cloudflare:workers`, so it is not re-exported from the package index.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { answerBatch } from "./batch.ts";
import type { Plugin } from "./define.ts";
import { type HandlerOptions, handlePluginRequest } from "./handler.ts";
import { workerHost } from "./worker.ts";

/**
 * The plugin as a default-exported entrypoint class.
 *
 * @example
 * // src/index.ts
 * export default toWorkerEntrypoint(definePlugin({ name: "hello", ...rest, operators: [greet] }));
 */
export function toWorkerEntrypoint<Env = unknown>(plugin: Plugin, options: HandlerOptions = {}) {
  return class PluginEntrypoint extends WorkerEntrypoint<Env> {
    override fetch(request: Request): Promise<Response> {
      return handlePluginRequest(plugin, request, workerHost(this.env, this.ctx), options);
    }

    /** Up to six signed operator requests; one JSON line per answer, as each settles. */
    async invoke(calls: unknown): Promise<ReadableStream<Uint8Array>> {
      return answerBatch(plugin, calls, workerHost(this.env, this.ctx), options);
    }
  };
}
