/**
 * Dispatcher: a stateless entrypoint of the main Worker, reached through the DISPATCHER service
 * binding (the Worker bound to itself). A PipelineDO hands it a batch of ≤ 36 built plugin calls; it
 * answers at once and performs them in its own invocation (`waitUntil`), as ≤ 6 RPC batches of ≤ 6
 * calls to the plugin Worker (runner/batch.ts), so wide fan-out runs in many invocations at the same
 * time instead of waves of six in the object's, each keeping to 6 open connections. Outcomes go back to
 * the object with `reportResults`; an outcome counts once, through its dispatch's callback token, so a
 * report delivered twice or late changes nothing, and one that reaches a restarted object still counts
 * (a lost one is sent again by the object's recovery, as the same invocation).
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { MAX_BATCH_CALLS } from "@updraft/plugin-sdk/protocol";
import { invokeBatch } from "../runner/batch";
import { failure, type Outcome } from "../runner/outcome";
import { batchBinding, firstPartyBinding } from "../runner/transport";
import { type DispatchReport, MAX_BATCH, objectOfToken, type PreparedCall } from "./batch";

export class Dispatcher extends WorkerEntrypoint<Env> {
  /** Accepts the batch and returns before any call is made. */
  perform(calls: PreparedCall[]): { accepted: number } {
    if (calls.length === 0) return { accepted: 0 };
    if (calls.length > MAX_BATCH) throw new RangeError(`a batch holds at most ${MAX_BATCH} calls`);
    const object = objectOfToken(calls[0]?.token ?? "");
    if (!object || calls.some((call) => objectOfToken(call.token) !== object))
      throw new TypeError("every call of a batch must carry a callback token of the same object");
    this.ctx.waitUntil(performBatch(this.env, object, calls));
    return { accepted: calls.length };
  }
}

/**
 * A report is a call into the object, which costs about as much as a plugin call: outcomes are
 * reported together once every call of the batch has settled, or REPORT_WINDOW_MS after the first
 * unreported outcome when others are still running, so a slow call does not hold a fast one back.
 */
export const REPORT_WINDOW_MS = 3;

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}

/** Runs every call at once (≤ 36, over ≤ 6 connections), reporting outcomes in as few reports as it can. */
export async function performBatch(
  env: Env,
  object: string,
  calls: PreparedCall[],
  windowMs = REPORT_WINDOW_MS,
): Promise<void> {
  const stub = env.PIPELINE.get(env.PIPELINE.idFromString(object));
  const batches = chunks(calls, MAX_BATCH_CALLS);
  let inFlight = calls.length;
  const peak = batches.length;
  let buffered: DispatchReport["results"] = [];
  let window: ReturnType<typeof setTimeout> | null = null;
  const reports: Promise<void>[] = [];
  const flush = () => {
    if (window !== null) clearTimeout(window);
    window = null;
    if (buffered.length === 0) return;
    const results = buffered;
    buffered = [];
    reports.push(
      stub.reportResults({ results, peak_in_flight: peak }).then(
        () => {},
        (error: unknown) => {
          // The object's recovery (or the task's timeout) sends these again; nothing else can be done here.
          console.error("dispatcher could not report", object, results.length, error);
        },
      ),
    );
  };
  const settle = (token: string, outcome: Outcome) => {
    buffered.push({ token, outcome });
    if (inFlight === 0) flush();
    else window ??= setTimeout(flush, windowMs);
  };
  // One RPC call per batch of six (of one plugin); each outcome is reported as soon as its answer arrives.
  const options = { signingKey: env.SIGNING_KEY };
  const sent = batches.flatMap((batch) =>
    [...groupBy(batch, (call) => call.binding ?? "PLUGIN_CORE")].flatMap(([name, calls]) => {
      const fetcher = firstPartyBinding(env, name);
      if (!fetcher) {
        const missing = failure(
          "input_invalid",
          `plugin binding ${name} is not deployed with this platform`,
          false,
        );
        return calls.map((call) => ({ call, outcome: Promise.resolve(missing) }));
      }
      return invokeBatch(batchBinding(fetcher), `${name} (service binding)`, calls, options);
    }),
  );
  await Promise.all(
    sent.map(async ({ call, outcome }) => {
      const settled = await outcome;
      inFlight--;
      settle(call.token, settled);
    }),
  );
  flush();
  await Promise.all(reports);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
