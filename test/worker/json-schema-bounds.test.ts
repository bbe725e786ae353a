/** The cost bounds on JSON Schemas leave the schemas real plugins publish alone. */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { jsonSchemaProblems } from "../../worker/engine/json-schema";
import { manifest } from "./manifest-server";

type Operator = { name: string; input: unknown; output: unknown };

it("accepts every schema of the core plugin's manifest and the test plugins' manifests", async () => {
  const response = await env.PLUGIN_CORE.fetch("https://core.internal/manifest");
  const core = (await response.json()) as { connection: unknown; operators: Operator[] };
  const test = manifest("echo", "1.0.0") as { connection: unknown; operators: Operator[] };
  for (const published of [core, test]) {
    const schemas = [published.connection, ...published.operators.flatMap((o) => [o.input, o.output])];
    for (const schema of schemas) expect(jsonSchemaProblems(schema, { safeRegex: true })).toEqual([]);
  }
});
