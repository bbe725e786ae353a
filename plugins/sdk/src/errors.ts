/**
 * The two errors an operator throws on purpose. Anything else it throws is treated as a transient
 * fault and retried by the platform, because a plugin cannot know every way a remote system fails.
 */

/**
 * A failure that retrying cannot fix (bad input, a 404 from the remote API, a rejected credential).
 * The task fails at once instead of burning its retries.
 *
 * @example
 * if (response.status === 404) throw new NonRetriableError(`issue ${input.id} does not exist`);
 */
export class NonRetriableError extends Error {
  override readonly name = "NonRetriableError";
}

/**
 * A transient failure with a known wait, such as a rate limit. Answered as `503` with `Retry-After`
 * so the platform backs off for at least that long before the next attempt.
 *
 * @example
 * if (response.status === 429) throw new RetryAfterError(60_000, "rate limited by the API");
 */
export class RetryAfterError extends Error {
  override readonly name = "RetryAfterError";
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number, message = `retry after ${Math.ceil(retryAfterMs / 1000)}s`) {
    super(message);
    // A negative or absurd wait would stall or spin the task; keep it within a day.
    this.retryAfterMs = Math.min(Math.max(0, Math.round(retryAfterMs)), 86_400_000);
  }
}

/** Raised inside the SDK when `deadline` passes before the operator settles; retryable like a timeout. */
export class DeadlineExceededError extends Error {
  override readonly name = "DeadlineExceededError";
}

const MAX_ERROR_LENGTH = 4_000;

/** The message put on the wire for any thrown value, bounded so one bad error cannot bloat a result. */
export function errorMessage(thrown: unknown): string {
  const text = thrown instanceof Error ? thrown.message || thrown.name : String(thrown);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH)}…` : text;
}
