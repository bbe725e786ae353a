// The plugin's own work: a queue of batch jobs per account. `run` submits a job and answers
// `202 running`; the result goes to the platform's callback URL when the job ends. `wait` is a sensor
// that answers `waiting` until a named job has ended, within its own timeout. A full account answers
// 429 and a plugin in maintenance 503, both with Retry-After.
import { randomUUID } from "node:crypto";
import { backOff, deliverCallback } from "./protocol.mjs";

export const NAME = "jobs";
const MAX_JOBS = 10_000;
const NAME_PATTERN = "^[A-Za-z0-9._-]{1,100}$";

/** The manifest (§1): the schemas below are also what inputs and connections are checked against. */
export const MANIFEST = {
  protocol: 1,
  name: NAME,
  version: "1.0.0",
  title: "Jobs (example)",
  description:
    "Runs batch jobs that finish later and waits for them: an example plugin written without the SDK " +
    "(plain Node http), showing long-running operators, sensors and back-off.",
  categories: ["example", "utility"],
  icon: null,
  homepage: null,
  connection: {
    type: "object",
    properties: {
      api_key: {
        type: "string",
        minLength: 1,
        maxLength: 200,
        writeOnly: true,
        description: "The account's key.",
      },
      max_running: {
        type: "integer",
        minimum: 1,
        maximum: 100,
        default: 4,
        description: "Jobs the account may run at once; more are refused with 429 until one ends.",
      },
    },
    required: ["api_key"],
    additionalProperties: false,
  },
  operators: [
    {
      name: "run",
      kind: "action",
      description: "Submits a job that takes `duration_ms` and answers when it has ended (a callback).",
      input: {
        type: "object",
        properties: {
          name: { type: "string", pattern: NAME_PATTERN, description: "The job's name, for `wait`." },
          duration_ms: { type: "integer", minimum: 0, maximum: 3_600_000, default: 1_000 },
          fail_with: { type: "string", maxLength: 1_000, description: "End the job with this error." },
        },
        required: ["name"],
        additionalProperties: false,
        examples: [{ name: "nightly-export", duration_ms: 100 }],
      },
      output: {
        type: "object",
        properties: {
          job_id: { type: "string" },
          name: { type: "string" },
          started_at: { type: "string" },
          finished_at: { type: "string" },
        },
        required: ["job_id", "name", "started_at", "finished_at"],
      },
      timeout: "1h",
    },
    {
      name: "wait",
      kind: "sensor",
      description:
        "Waits until the latest job called `name` has ended: succeeds with it, fails if it failed or " +
        "if `timeout_ms` passes first (counted from the task's first poke).",
      input: {
        type: "object",
        properties: {
          name: { type: "string", pattern: NAME_PATTERN },
          poke_interval_ms: { type: "integer", minimum: 100, maximum: 3_600_000, default: 1_000 },
          timeout_ms: { type: "integer", minimum: 100, maximum: 86_400_000, default: 600_000 },
        },
        required: ["name"],
        additionalProperties: false,
        examples: [{ name: "nightly-export", timeout_ms: 1_000 }],
      },
      output: {
        type: "object",
        properties: { job_id: { type: "string" }, name: { type: "string" }, waited_ms: { type: "integer" } },
        required: ["job_id", "name", "waited_ms"],
      },
      timeout: "10s",
    },
  ],
};

/**
 * Checks a value against one of the flat schemas above (types, bounds, patterns, required, no extra
 * fields) and fills defaults; answers the value or the violations as `{path, message}`.
 * @param {any} schema
 * @param {Record<string, unknown>} value
 * @param {string} prefix
 */
export function checkAgainst(schema, value, prefix) {
  const issues = [];
  /** @type {Record<string, unknown>} */
  const filled = { ...value };
  for (const name of schema.required ?? []) {
    if (value[name] === undefined) issues.push({ path: `${prefix}.${name}`, message: "is required" });
  }
  for (const [name, field] of Object.entries(value)) {
    const rule = schema.properties[name];
    const path = `${prefix}.${name}`;
    if (!rule) issues.push({ path, message: "is not a known field" });
    else if (rule.type === "integer" && !Number.isInteger(field))
      issues.push({ path, message: "must be an integer" });
    else if (rule.type === "string" && typeof field !== "string")
      issues.push({ path, message: "must be a string" });
    else if (typeof field === "number" && (field < rule.minimum || field > rule.maximum)) {
      issues.push({ path, message: `must be between ${rule.minimum} and ${rule.maximum}` });
    } else if (
      typeof field === "string" &&
      (field.length < (rule.minLength ?? 0) || field.length > (rule.maxLength ?? 1e6))
    ) {
      issues.push({ path, message: "has the wrong length" });
    } else if (typeof field === "string" && rule.pattern && !new RegExp(rule.pattern).test(field)) {
      issues.push({ path, message: `must match ${rule.pattern}` });
    }
  }
  for (const [name, rule] of Object.entries(schema.properties)) {
    if (filled[name] === undefined && /** @type {any} */ (rule).default !== undefined)
      filled[name] = /** @type {any} */ (rule).default;
  }
  return { value: filled, issues };
}

/**
 * @typedef {{ id: string, account: string, name: string, started_at: number, ends_at: number,
 *   result?: { status: "success", output: unknown } | { status: "failure", error: string, retryable: false },
 *   callback: { url: string, invocation: string } }} Job
 * @typedef {{ url: string, body: unknown, status: number | undefined }} SentCallback
 */

/**
 * The job queue and the two operators over it.
 * @param {{ onCallback?: (sent: SentCallback) => void }} [options]
 */
export function jobQueue({ onCallback } = {}) {
  /** Jobs by "account / idempotency key", oldest first. @type {Map<string, Job>} */
  const jobs = new Map();
  let maintenanceUntil = 0;

  /** The account is the tenant and its key: two installations with two keys are two accounts. */
  const accountOf = (/** @type {any} */ invocation) =>
    `${invocation.tenant}/${invocation.connection.api_key}`;

  const finish = async (/** @type {Job} */ job) => {
    const result = /** @type {NonNullable<Job["result"]>} */ (job.result);
    const status = await deliverCallback(job.callback.url, job.callback.invocation, result);
    onCallback?.({ url: job.callback.url, body: result, status });
  };

  const admit = () => {
    if (jobs.size < MAX_JOBS) return true;
    for (const [key, job] of jobs) {
      if (job.result) {
        jobs.delete(key);
        return true;
      }
    }
    return false;
  };

  return {
    /** From now on, for `ms`, every call answers 503 with Retry-After (a maintenance window). */
    maintenance(/** @type {number} */ ms) {
      maintenanceUntil = Date.now() + ms;
    },

    /**
     * `run`: the same idempotency key is the same job, so a retried attempt never starts it twice: a
     * job still running answers 202 again (its result goes to the newest attempt's callback), an ended
     * one answers its result at once.
     * @param {any} invocation with `input` and `connection` checked
     * @returns {import("./protocol.mjs").Answer}
     */
    run(invocation) {
      const now = Date.now();
      if (now < maintenanceUntil)
        return backOff(503, "The jobs service is in maintenance.", maintenanceUntil - now);
      const account = accountOf(invocation);
      const key = `${account}\u0000${invocation.idempotency_key}`;
      const known = jobs.get(key);
      if (known?.result) return { status: 200, body: known.result };
      if (known) {
        known.callback = { url: invocation.callback_url, invocation: invocation.invocation_id };
        return { status: 202, body: { status: "running" } };
      }
      const running = [...jobs.values()].filter((job) => job.account === account && !job.result);
      if (running.length >= invocation.connection.max_running) {
        const next = Math.min(...running.map((job) => job.ends_at));
        return backOff(
          429,
          `The account already runs ${running.length} of its ${invocation.connection.max_running} jobs at once.`,
          next - now,
        );
      }
      if (!admit()) return backOff(503, "The jobs service is full.", 5_000);
      const { name, duration_ms, fail_with } = invocation.input;
      /** @type {Job} */
      const job = {
        id: `job_${randomUUID()}`,
        account,
        name,
        started_at: now,
        ends_at: now + duration_ms,
        callback: { url: invocation.callback_url, invocation: invocation.invocation_id },
      };
      jobs.set(key, job);
      setTimeout(() => {
        job.result =
          fail_with === undefined
            ? {
                status: "success",
                output: {
                  job_id: job.id,
                  name,
                  started_at: new Date(job.started_at).toISOString(),
                  finished_at: new Date().toISOString(),
                },
              }
            : { status: "failure", error: `Job ${name} failed: ${fail_with}`, retryable: false };
        void finish(job);
      }, duration_ms).unref();
      return { status: 202, body: { status: "running" } };
    },

    /**
     * `wait`: stateless across pokes, like any sensor should be: the time waited is counted from the
     * task's first start (`task_started_at`), which the platform sends on every poke.
     * @param {any} invocation
     * @returns {import("./protocol.mjs").Answer}
     */
    wait(invocation) {
      const now = Date.now();
      if (now < maintenanceUntil)
        return backOff(503, "The jobs service is in maintenance.", maintenanceUntil - now);
      const { name, poke_interval_ms, timeout_ms } = invocation.input;
      const account = accountOf(invocation);
      const latest = [...jobs.values()].filter((job) => job.account === account && job.name === name).at(-1);
      const waited = now - Date.parse(invocation.task_started_at ?? new Date(now).toISOString());
      if (latest?.result?.status === "success") {
        return {
          status: 200,
          body: { status: "success", output: { job_id: latest.id, name, waited_ms: waited } },
        };
      }
      if (latest?.result) {
        return { status: 200, body: { status: "failure", error: latest.result.error, retryable: false } };
      }
      if (waited >= timeout_ms) {
        const error = `Job ${name} did not end within ${timeout_ms} ms (the sensor's timeout).`;
        return { status: 200, body: { status: "failure", error, retryable: false } };
      }
      const retry = Math.min(poke_interval_ms, timeout_ms - waited);
      const message = latest ? `Job ${name} is running.` : `No job ${name} yet.`;
      return {
        status: 200,
        body: {
          status: "waiting",
          retry_after_ms: retry,
          logs: [{ at: new Date(now).toISOString(), level: "info", message }],
        },
      };
    },
  };
}
