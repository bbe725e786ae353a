/**
 * Manifest fuzzing (issue 13, bad input): whatever bytes a publication URL answers, reading, checking
 * and publishing them ends in a result the API turns into 200/201/409/422 — never a throw (a 500).
 * The bodies are served through a transport, exactly as the publications route reads them.
 */
import { env } from "cloudflare:workers";
import { parseDuration } from "@updraft/plugin-sdk/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readManifest } from "../../worker/marketplace/manifest-reader";
import { publish } from "../../worker/marketplace/registry";
import type { PluginTransport } from "../../worker/runner/transport";
import { ownerWithTenant } from "./helpers";
import { manifest } from "./manifest-server";

const serving = (body: BodyInit, status = 200): PluginTransport => ({
  label: "https://fuzz.example",
  fetch: async () => new Response(body, { status, headers: { "content-type": "application/json" } }),
});

/** JSON Schemas: valid keywords with arbitrary, often wrong, values, nested. */
const schema = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.jsonValue({ maxDepth: 2 }),
    fc.record(
      {
        type: fc.oneof(fc.constantFrom("object", "string", "integer", "array", "nope"), fc.jsonValue()),
        properties: fc.dictionary(fc.string({ maxLength: 8 }), tie("node"), { maxKeys: 4 }),
        items: tie("node"),
        required: fc.oneof(fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), fc.jsonValue()),
        pattern: fc.oneof(fc.constantFrom("^a+$", "(a+)+$", "[", "\\p{L}", "(?<=a)b"), fc.string()),
        $ref: fc.constantFrom("#", "#/properties/x", "https://evil.example/schema", "#/$defs/loop"),
        $defs: fc.dictionary(fc.constantFrom("loop", "x"), tie("node"), { maxKeys: 2 }),
        writeOnly: fc.jsonValue({ maxDepth: 0 }),
        anyOf: fc.array(tie("node"), { maxLength: 3 }),
        maxLength: fc.oneof(fc.integer(), fc.double(), fc.string()),
      },
      { requiredKeys: [] },
    ),
  ),
})).node;

/** A real manifest with some fields replaced by arbitrary values, some schemas by fuzzed ones. */
const mutated = fc
  .record(
    {
      name: fc.oneof(fc.constantFrom("fuzzed", "Fuzz", "a".repeat(80), "updraft", ""), fc.jsonValue()),
      version: fc.oneof(fc.constantFrom("1.0.0", "v1.0.0", "1.0.0+build", "1.0", "01.0.0"), fc.jsonValue()),
      protocol: fc.oneof(fc.constant(1), fc.jsonValue({ maxDepth: 0 })),
      title: fc.oneof(fc.string(), fc.jsonValue()),
      categories: fc.oneof(fc.array(fc.string(), { maxLength: 30 }), fc.jsonValue()),
      icon: fc.oneof(fc.constant(null), fc.string(), fc.jsonValue()),
      connection: schema,
      operators: fc.oneof(
        fc.array(
          fc.record({
            name: fc.oneof(fc.constantFrom("op", "op", "Op!", ""), fc.string()),
            kind: fc.oneof(fc.constantFrom("action", "sensor"), fc.string()),
            description: fc.string(),
            input: schema,
            output: schema,
            timeout: fc.oneof(fc.constantFrom("30s", "1h30m", "0s", "9999999d", "1x"), fc.string()),
          }),
          { maxLength: 4 },
        ),
        fc.jsonValue(),
      ),
      extra: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    },
    { requiredKeys: [] },
  )
  .map(({ extra, ...fields }) => ({ ...manifest("fuzzed", "1.0.0"), ...extra, ...fields }));

/** Manifests that should mostly pass: fuzzed names, versions and flat object schemas. */
const plausible = fc
  .record({
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
    version: fc.tuple(fc.nat(99), fc.nat(99), fc.nat(99)).map((parts) => parts.join(".")),
    properties: fc.dictionary(
      fc.stringMatching(/^[a-z_]{1,12}$/),
      fc.record(
        {
          type: fc.constantFrom("string", "integer", "boolean", "number"),
          description: fc.string({ maxLength: 40 }),
          pattern: fc.constantFrom("^[a-z]+$", "^\\d{1,4}$"),
          maxLength: fc.nat(1_000),
        },
        { requiredKeys: ["type"] },
      ),
      { maxKeys: 5 },
    ),
  })
  .map(({ name, version, properties }) => {
    const base = manifest(`fz-${name}`, version);
    const input = { type: "object", properties, required: Object.keys(properties).slice(0, 1) };
    return { ...base, operators: base.operators.map((operator) => ({ ...operator, input })) };
  });

const tenantIdOf = async (slug: string) =>
  (await env.DB.prepare("SELECT id FROM tenants WHERE slug = ?").bind(slug).first<{ id: string }>())?.id;

describe("manifest fuzzing", () => {
  it("reads any bytes as a manifest or a clear refusal, never a throw", { timeout: 60_000 }, async () => {
    const bodies = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.uint8Array({ maxLength: 2_000 }),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      mutated.map((value) => JSON.stringify(value)),
    );
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const read = await readManifest(serving(body));
        if (!read.ok) expect(read.detail.length).toBeGreaterThan(0);
        else {
          // What the runner relies on held: operators, each with a bounded default timeout.
          expect(read.manifest.operators.length).toBeGreaterThan(0);
          for (const operator of read.manifest.operators)
            expect(parseDuration(operator.timeout)).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("publishes what it accepts, or refuses it with a conflict or a limit", {
    timeout: 120_000,
  }, async () => {
    const { slug } = await ownerWithTenant();
    const publisher = await tenantIdOf(slug);
    expect(publisher).toBeDefined();
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, plausible), async (value) => {
        const read = await readManifest(serving(JSON.stringify(value)));
        if (!read.ok) return;
        accepted++;
        const outcome = await publish(env.DB, {
          manifest: read.manifest,
          endpoint: { base_url: "https://fuzz.example" },
          publisher: publisher ?? null,
          actor: "fuzz",
        });
        expect(["published", "unchanged", "conflict", "limit"]).toContain(outcome.kind);
      }),
      { numRuns: 150 },
    );
    // The generator is not so wild that nothing is ever published.
    expect(accepted).toBeGreaterThan(0);
  });
});
