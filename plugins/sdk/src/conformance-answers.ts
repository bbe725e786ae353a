/**
 * How the conformance check judges a plugin's answers: a refusal in result shape (401), and a result
 * as PROTOCOL.md §4 defines one.
 */
import { describeIssues, issuesOf } from "./issues.ts";
import { PluginResult } from "./protocol/index.ts";

/** A plugin's answer to one request: its status, its body text, and that text parsed (or undefined). */
export interface PluginAnswer {
  status: number;
  text: string;
  json: unknown;
}

/** A top-level field of a JSON object, or undefined. */
export const field = (json: unknown, name: string): unknown =>
  typeof json === "object" && json !== null && name in json
    ? (json as Record<string, unknown>)[name]
    : undefined;

/** "401 wrong_recipient" or "200 success": what an answer was, for details. */
export function summary(answer: PluginAnswer): string {
  const code = field(answer.json, "code");
  const status = field(answer.json, "status");
  const what = typeof code === "string" ? code : typeof status === "string" ? status : "";
  return what === "" ? String(answer.status) : `${answer.status} ${what}`;
}

/** A refusal as the protocol answers one: 401 with a failure body (PROTOCOL.md §4). */
export function expect401(answer: PluginAnswer): { ok: boolean; detail: string } {
  const shaped = field(answer.json, "status") === "failure";
  const ok = answer.status === 401 && shaped;
  return { ok, detail: `answered ${summary(answer)}${shaped ? "" : " without a failure body"}` };
}

const clip = (text: string) => (text.length > 160 ? `${text.slice(0, 157)}…` : text);

/**
 * Whether an answer to a valid invocation is a protocol result (PROTOCOL.md §4): 200 with success,
 * failure or waiting; 202 with running; 429/503 with a retryable failure. The detail says which, or why not.
 *
 * @example
 * judgeResult({ status: 202, text: '{"status":"running"}', json: { status: "running" } });
 * // → { ok: true, detail: "202 running" }
 */
export function judgeResult(answer: PluginAnswer): { ok: boolean; detail: string } {
  if (answer.json === undefined) {
    return { ok: false, detail: `${answer.status} with a body that is not JSON: ${clip(answer.text)}` };
  }
  const parsed = PluginResult.safeParse(answer.json);
  if (!parsed.success) {
    const issues = describeIssues(issuesOf(parsed.error));
    return { ok: false, detail: `${answer.status} with a body that is not a protocol result: ${issues}` };
  }
  const result = parsed.data;
  let said: string = result.status;
  if (result.status === "waiting") said = `waiting ${result.retry_after_ms} ms`;
  if (result.status === "failure") {
    const code = result.code ? ` ${result.code}` : "";
    said = `failure (${result.retryable ? "retryable" : "not retryable"}${code}): ${clip(result.error)}`;
  }
  const status = answer.status;
  const ok =
    (status === 200 && result.status !== "running") ||
    (status === 202 && result.status === "running") ||
    ((status === 429 || status === 503) && result.status === "failure" && result.retryable);
  const expected = "expected 200 success/failure/waiting, 202 running or 429/503 retryable failure";
  return { ok, detail: ok ? `${status} ${said}` : `${status} ${said} — ${expected}` };
}
