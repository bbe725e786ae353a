/** Schema violations as the protocol reports them (`issues` of a failure, PROTOCOL.md §4). */
import type { z } from "zod";
import type { Issue } from "./protocol/index.ts";

/** Flattens zod issues into `{path, message}`; the messages never echo the offending values. */
export function issuesOf(error: z.ZodError, prefix = ""): Issue[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter((part) => part !== "").join("."),
    message: issue.message,
  }));
}

/** "url: Invalid URL; method: Invalid option" — for the single `error` string of a result. */
export function describeIssues(issues: readonly Issue[]): string {
  return issues
    .slice(0, 10)
    .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message))
    .join("; ");
}
