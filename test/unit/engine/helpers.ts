import { expect } from "vitest";
import { type ParsedSpec, parsePipelineSpec, type SpecError } from "../../../worker/engine/index";

/** DESIGN.md §3, verbatim. */
export const DESIGN_EXAMPLE = `name: GitHub pushes to Slack
params:
  channel: { type: string, default: "#dev" }
schedule: { cron: "0 9 * * 1-5", timezone: Europe/Berlin, catchup: false }
triggers:
  - webhook:
      id: github
      verify: { scheme: github, secret: "{{ secrets.GITHUB_HOOK_SECRET }}" }
      filter: "headers.\`x-github-event\` = 'push'"
      dedupe: "headers.\`x-github-delivery\`"
defaults: { retries: 3, retry_delay: 5s, retry_backoff: exponential, timeout: 60s }
concurrency: { max_active_runs: 4, max_active_tasks: 32 }
tasks:
  - id: commits
    uses: core/transform@^1
    with: { expression: "trigger.body.commits.{ 'id': id, 'msg': message }" }
  - id: notify
    uses: slack/post-message@^1
    needs: [commits]
    for_each: "{{ tasks.commits.output }}"
    with: { channel: "{{ params.channel }}", text: "{{ item.msg }}" }
`;

/** A minimal valid spec as a JSON value, for tests that change one thing. */
export function minimalSpec(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: "minimal", tasks: [{ id: "only", uses: "core/noop@^1" }], ...overrides };
}

/** The errors of a spec that must be invalid (not a syntax error). */
export function invalidErrors(result: ParsedSpec): SpecError[] {
  if (result.ok || result.kind !== "invalid") {
    throw new Error(`expected an invalid spec, got ${JSON.stringify(result).slice(0, 500)}`);
  }
  return result.errors;
}

export function yamlErrors(source: string): SpecError[] {
  return invalidErrors(parsePipelineSpec(source, "yaml"));
}

/** Asserts that exactly one error sits at `path`, and returns it for further checks. */
export function errorAt(errors: SpecError[], path: string): SpecError {
  const found = errors.filter((e) => e.path === path);
  expect(found, `errors at "${path}" among ${JSON.stringify(errors)}`).toHaveLength(1);
  const [error] = found;
  if (!error) throw new Error("unreachable");
  return error;
}

/** 1-based line and column of the first occurrence of `needle` in `source` (after `after`, if given). */
export function positionOf(source: string, needle: string, after = ""): { line: number; column: number } {
  const from = after === "" ? 0 : source.indexOf(after);
  const offset = source.indexOf(needle, from);
  if (from < 0 || offset < 0) throw new Error(`"${needle}" is not in the source`);
  const lines = source.slice(0, offset).split("\n");
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}
