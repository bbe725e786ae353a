/**
 * An observer of the connections a PipelineDO opens, independent of the object's own counters: it wraps
 * the plugin and Dispatcher bindings this one object sees and counts calls from their start until their
 * answer (response headers, or the Dispatcher's acceptance), as Cloudflare's six-connection limit counts
 * them. The isolate's `env` is shared with the Dispatcher invocations, so it is not changed: the object's
 * driver gets a view of it instead.
 */
import { runInDurableObject } from "cloudflare:test";
import type { PipelineDO } from "../../worker/pipeline/object";

type Counter = { open: number; peak: number; calls: number };

export async function observeConnections(stub: DurableObjectStub<PipelineDO>) {
  await runInDurableObject(stub, (instance) => {
    const driver = (instance as unknown as { driver: { env: Env } }).driver;
    const env = driver.env;
    const counter: Counter = { open: 0, peak: 0, calls: 0 };
    const counted = async <T>(call: () => Promise<T>): Promise<T> => {
      counter.open++;
      counter.calls++;
      counter.peak = Math.max(counter.peak, counter.open);
      try {
        return await call();
      } finally {
        counter.open--;
      }
    };
    // Only Dispatcher invocations send RPC batches (`invoke`); in this test isolate they reach the same
    // bindings, so `invoke` passes through uncounted here (dispatcher-reports.test.ts counts those per
    // Dispatcher invocation). The object's own connections are its direct calls and its hand-offs.
    const plugin = env.PLUGIN_CORE as Env["PLUGIN_CORE"] & { invoke(calls: unknown[]): Promise<unknown> };
    const dispatcher = env.DISPATCHER;
    const wrapped: Partial<Record<keyof Env, unknown>> = {
      PLUGIN_CORE: {
        fetch: (input: RequestInfo, init?: RequestInit) => counted(() => plugin.fetch(input, init)),
        invoke: (calls: unknown[]) => plugin.invoke(calls),
      },
      DISPATCHER: {
        perform: (...args: Parameters<typeof dispatcher.perform>) =>
          counted(() => dispatcher.perform(...args)),
      },
    };
    // A view for this object's driver only; the shared `env` itself stays as it is.
    driver.env = new Proxy(env, {
      get: (target, name) => (name in wrapped ? wrapped[name as keyof Env] : target[name as keyof Env]),
    });
    (instance as unknown as { observed: Counter }).observed = counter;
  });
  return () =>
    runInDurableObject(stub, (instance) => ({ ...(instance as unknown as { observed: Counter }).observed }));
}
