/**
 * The service-binding transport (PROTOCOL.md §8): a Worker reached through a service binding may take
 * up to MAX_BATCH_CALLS signed operator requests in one Workers RPC call instead of one HTTP request
 * each. Every call is the exact request of §3 (same body, same signature headers) and goes through the
 * same handler; the answers are the exact responses of §4, written to a stream as each call settles,
 * so a slow call never holds a fast one back.
 */
import { reject } from "./body.ts";
import type { Plugin } from "./define.ts";
import { answerRequest, type HandlerOptions } from "./handler.ts";
import type { PluginHost } from "./host.ts";
import { type Outcome, toWire } from "./outcome.ts";
import { type BatchAnswer, type BatchCall, BatchCalls, MAX_BATCH_CALLS } from "./protocol/index.ts";

/**
 * Runs every call of a batch at once and streams one JSON line per answer, in the order they settle.
 *
 * @example
 * const lines = answerBatch(plugin, calls, host); // return it from a WorkerEntrypoint method
 */
export function answerBatch(
  plugin: Plugin,
  calls: unknown,
  host: PluginHost,
  options: HandlerOptions = {},
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const line = (answer: BatchAnswer) => encoder.encode(`${JSON.stringify(answer)}\n`);
  const parsed = BatchCalls.safeParse(calls);
  if (!parsed.success) {
    // Not thrown: an exception of an RPC method is logged as uncaught by the plugin's runtime.
    const refused = line({ refused: `a batch is 1–${MAX_BATCH_CALLS} signed operator requests` });
    return new ReadableStream({
      start(controller) {
        controller.enqueue(refused);
        controller.close();
      },
    });
  }
  const base = (options.basePath ?? "").replace(/\/+$/, "");
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const answers = parsed.data.map(async (call, index) => {
    const { status, headers, body } = toWire(await answerCall(plugin, call, host, options, base));
    await writer.write(line({ index, status, headers, body: JSON.stringify(body) }));
  });
  // A caller that stopped reading makes the writes and the close reject; there is nobody left to tell.
  host.waitUntil(
    Promise.allSettled(answers)
      .then(() => writer.close())
      .catch(() => {}),
  );
  return readable;
}

/** The answer `POST {base}/operators/{operator}` would have had; headers HTTP cannot carry are a 400. */
function answerCall(
  plugin: Plugin,
  { operator, headers, body }: BatchCall,
  host: PluginHost,
  options: HandlerOptions,
  base: string,
): Promise<Outcome> {
  let request: Request;
  try {
    request = new Request(`https://plugin.batch${base}/operators/${operator}`, {
      method: "POST",
      headers,
      body,
    });
  } catch {
    return Promise.resolve(
      reject(400, "invalid_invocation", "the call's headers are not valid HTTP headers"),
    );
  }
  return answerRequest(plugin, request, host, options);
}
