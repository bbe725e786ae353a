/**
 * The spec as JSON Schema 2020-12, for editors (VS Code YAML's `# yaml-language-server: $schema=…`) and
 * the API docs. It describes what a user writes (io: "input": fields with defaults are optional); the
 * cross-field checks (graph, expressions, cron, semver) exist only in parsePipelineSpec.
 */
import { z } from "zod";
import { PipelineSpecSchema } from "./pipeline";

let cached: Record<string, unknown> | undefined;

/** @example a spec file's first line: `# yaml-language-server: $schema=<origin>/api/schemas/pipeline.json` */
export function pipelineJsonSchema(): object {
  cached ??= z.toJSONSchema(PipelineSpecSchema, {
    io: "input",
    target: "draft-2020-12",
    unrepresentable: "any",
  });
  // A copy, so a caller that decorates the document cannot change it for everyone else.
  return structuredClone(cached);
}
