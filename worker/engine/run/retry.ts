/** Retry policy: how many attempts a task gets and how long to wait between them. */
import { DAY_MS, parseDuration, SECOND_MS } from "../duration";
import type { RETRY_BACKOFFS } from "../spec/fields";

export type RetryBackoff = (typeof RETRY_BACKOFFS)[number];

export type RetryPolicy = {
  /** Retries after the first attempt; 0 = one attempt only. */
  retries: number;
  delay_ms: number;
  backoff: RetryBackoff;
  max_delay_ms: number;
};

/** Shorter than Airflow's 5 minutes: tasks here are HTTP calls, whose transient failures clear fast. */
export const DEFAULT_RETRY_DELAY_MS = 30 * SECOND_MS;
/** Airflow's cap on a computed backoff; a longer explicit retry_delay raises it. */
export const DEFAULT_MAX_RETRY_DELAY_MS = DAY_MS;

type PolicyFields = {
  retries?: number | undefined;
  retry_delay?: string | undefined;
  retry_backoff?: RetryBackoff | undefined;
  max_retry_delay?: string | undefined;
};

/** A task's own settings, falling back to the spec's `defaults`, then to Airflow-like defaults. */
export function retryPolicy(task: PolicyFields, defaults: PolicyFields = {}): RetryPolicy {
  const ms = (value: string | undefined) => (value === undefined ? null : parseDuration(value));
  const delay = ms(task.retry_delay ?? defaults.retry_delay) ?? DEFAULT_RETRY_DELAY_MS;
  const max = ms(task.max_retry_delay ?? defaults.max_retry_delay);
  return {
    retries: task.retries ?? defaults.retries ?? 0,
    delay_ms: delay,
    backoff: task.retry_backoff ?? defaults.retry_backoff ?? "constant",
    max_delay_ms: max ?? Math.max(DEFAULT_MAX_RETRY_DELAY_MS, delay),
  };
}

/**
 * How long to wait before the retry that follows failed attempt number `attempt` (1-based): constant
 * `d`, linear `d·n`, exponential `d·2^(n−1)`, never more than max_delay_ms. No jitter: the planner is
 * deterministic, and the timer table spreads retries by their own failure times.
 * @example retryDelay({ retries: 5, delay_ms: 1000, backoff: "exponential", max_delay_ms: 5000 }, 3) // 4000
 */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
  const n = Math.max(1, Math.floor(attempt));
  const raw = rawDelay(policy.backoff, policy.delay_ms, n);
  return Math.min(raw, policy.max_delay_ms);
}

function rawDelay(backoff: RetryBackoff, delay: number, n: number): number {
  switch (backoff) {
    case "constant":
      return delay;
    case "linear":
      return delay * n;
    case "exponential":
      // 2^(n-1) overflows to Infinity long after any cap; min() then takes the cap.
      return delay * 2 ** (n - 1);
    default: {
      const never: never = backoff;
      throw new Error(`unknown retry backoff ${String(never)}`);
    }
  }
}
