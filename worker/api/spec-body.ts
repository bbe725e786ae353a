/**
 * Reads a pipeline spec from a request: JSON or YAML by Content-Type, parsed with paths and lines,
 * then checked against the installed plugins (worker/plugins) once it is otherwise valid.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { type ParsedSpec, parsePipelineSpec, type SpecFormat, sourceErrors } from "../engine";
import { tenantPlugins } from "../marketplace/resolve";
import { PluginCatalog } from "../plugins/catalog";
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
  tenantId: string,
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
  return { source, format, parsed: await checkPlugins(c.env, tenantId, parsed, source, format) };
}

/**
 * Names `uses` does not resolve to among the tenant's plugins, unknown operators, unsatisfiable version
 * ranges and literal inputs that violate the operator's schema become errors like any other,
 * positioned in the source. The manifests are the ones the marketplace stored: no plugin is asked.
 */
async function checkPlugins(
  env: Env,
  tenantId: string,
  parsed: ParsedSpec,
  source: string,
  format: SpecFormat,
): Promise<ParsedSpec> {
  if (!parsed.ok) return parsed;
  const issues = checkOperators(parsed.spec, new PluginCatalog(await tenantPlugins(env, tenantId)));
  if (issues.length === 0) return parsed;
  return { ok: false, kind: "invalid", errors: sourceErrors(source, format, issues) };
}
