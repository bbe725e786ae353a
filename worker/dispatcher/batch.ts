/**
 * What the PipelineDO hands a Dispatcher invocation and what it gets back: fully built plugin calls
 * (inputs rendered, secrets resolved, not yet signed) and their outcomes, keyed by callback token.
 */
import { MAX_BATCH_CALLS } from "@updraft/plugin-sdk/protocol";
import type { Invocation } from "../runner/invoke";
import type { Outcome } from "../runner/outcome";

/** Plugin connections one Dispatcher invocation opens at once (Workers allow 6 per invocation). */
export const MAX_CONNECTIONS = 6;

/** At most this many calls per hand-off: one RPC batch of ≤ 6 calls per connection. */
export const MAX_BATCH = MAX_CONNECTIONS * MAX_BATCH_CALLS;

export type PreparedCall = {
  /** The dispatch's callback token: unguessable, one per dispatch, names the PipelineDO. */
  token: string;
  operator: string;
  invocation: Invocation;
  /** The first-party plugin's service binding (PLUGIN_*); absent from objects of earlier deploys: core. */
  binding?: string;
};

export type DispatchReport = {
  results: { token: string; outcome: Outcome }[];
  /** The most plugin connections (RPC batches) this Dispatcher invocation had open at once. */
  peak_in_flight: number;
};

const CALLBACK_TOKEN = /^cb_([0-9a-f]{64})_[A-Za-z0-9_-]{20,64}$/;

/** The PipelineDO id a callback token was minted by, or null when the token is not one of ours. */
export function objectOfToken(token: string): string | null {
  return CALLBACK_TOKEN.exec(token)?.[1] ?? null;
}
