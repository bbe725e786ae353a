/** Reads a pipeline spec from a request: JSON or YAML by Content-Type, parsed with paths and lines. */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { type ParsedSpec, parsePipelineSpec, type SpecFormat } from "../engine";
import { problems } from "../problem";

const FORMATS: Record<string, SpecFormat> = {
  "application/json": "json",
  "application/yaml": "yaml",
  "application/x-yaml": "yaml",
  "text/yaml": "yaml",
  "text/x-yaml": "yaml",
};

export async function readSpec(
  c: Context<AppEnv>,
): Promise<{ source: string; format: SpecFormat; parsed: ParsedSpec }> {
  const mediaType = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  const format = FORMATS[mediaType];
  if (!format) {
    throw problems.unsupportedMediaType(
      `Send the spec as application/json or application/yaml${mediaType ? `, not ${mediaType}` : ""}.`,
    );
  }
  // Decoded by hand: workerd warns when .text() meets a non-text media type such as application/yaml.
  const source = new TextDecoder().decode(await c.req.arrayBuffer());
  return { source, format, parsed: parsePipelineSpec(source, format) };
}
