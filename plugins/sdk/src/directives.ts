/**
 * Values an operator returns instead of its output when the result is not known yet. They are class
 * instances, not plain objects, so no real output can ever be mistaken for one.
 */

/** The operator keeps working after the response and will POST the final result to `callback_url`. */
export class Running {
  readonly kind = "running";
}

/** A sensor's condition is not met yet: the platform re-pokes it after `retryAfterMs`. */
export class Waiting {
  readonly kind = "waiting";
  readonly retryAfterMs: number;

  constructor(retryAfterMs: number) {
    // Zero would make the platform spin; a day is the longest a single wait can be.
    this.retryAfterMs = Math.min(Math.max(1, Math.ceil(retryAfterMs)), 86_400_000);
  }
}

export type Directive = Running | Waiting;

export function isDirective(value: unknown): value is Directive {
  return value instanceof Running || value instanceof Waiting;
}
