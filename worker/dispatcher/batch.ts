/**
 * What the PipelineDO hands a Dispatcher invocation and what it gets back: fully built plugin calls
 * (inputs rendered, secrets resolved, not yet signed) and their outcomes, keyed by callback token.
 */
import type { Invocation } from "../runner/invoke";
import type { Outcome } from "../runner/outcome";

/** At most this many calls per hand-off: one Dispatcher invocation opens at most 6 connections. */
export const MAX_BATCH = 6;

export type PreparedCall = {
  /** The dispatch's callback token: unguessable, one per dispatch, names the PipelineDO. */
  token: string;
  operator: string;
  invocation: Invocation;
};

export type DispatchReport = {
  results: { token: string; outcome: Outcome }[];
  /** The most plugin calls this Dispatcher invocation had in flight at once. */
  peak_in_flight: number;
};

const CALLBACK_TOKEN = /^cb_([0-9a-f]{64})_[A-Za-z0-9_-]{20,64}$/;

/** The PipelineDO id a callback token was minted by, or null when the token is not one of ours. */
export function objectOfToken(token: string): string | null {
  return CALLBACK_TOKEN.exec(token)?.[1] ?? null;
}
