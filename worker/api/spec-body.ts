/**
 * Reads a pipeline spec from a request: JSON or YAML by Content-Type, parsed with paths and lines,
 * then checked against the installed plugins (worker/plugins) once it is otherwise valid.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { type ParsedSpec, parsePipelineSpec, type SpecFormat, sourceErrors } from "../engine";
import { installedPlugins, PluginCatalog } from "../plugins/catalog";
import { checkOperators } from "../plugins/check";
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
  const parsed = parsePipelineSpec(source, format);
  return { source, format, parsed: await checkPlugins(c.env, parsed, source, format) };
}

/**
 * Unknown plugins and operators, unsatisfiable version ranges and literal inputs that violate the
 * operator's schema become errors like any other, positioned in the source. A plugin whose manifest
 * cannot be read does not block the save: its tasks go unchecked here and fail at run time instead.
 */
async function checkPlugins(
  env: Env,
  parsed: ParsedSpec,
  source: string,
  format: SpecFormat,
): Promise<ParsedSpec> {
  if (!parsed.ok) return parsed;
  const { issues, unchecked } = await checkOperators(parsed.spec, new PluginCatalog(installedPlugins(env)));
  for (const { plugin, reason } of unchecked) {
    console.warn("spec not checked against plugin", plugin, reason);
  }
  if (issues.length === 0) return parsed;
  return { ok: false, kind: "invalid", errors: sourceErrors(source, format, issues) };
}
