/**
 * `@updraft/plugin-sdk/protocol` — the wire shapes of plugin protocol v1 as zod schemas and constants:
 * manifest, invocation, results (synchronous or by callback), batches, connection test, and the limits
 * that go with them. PROTOCOL.md is the prose; this module is the one definition the code holds.
 *
 * Why it lives in the SDK package: a wire shape defined on both sides of a boundary drifts, so the
 * platform's runner and marketplace (`worker/`) and the SDK import this one module, and a change to the
 * wire is one change the compiler checks on both sides. The SDK is published on its own and must not
 * depend on `worker/`; the platform may depend on a package. So the module sits here and `worker/`
 * imports it as the package (the root package.json makes `plugins/sdk` a workspace).
 *
 * It is a leaf: it imports zod and nothing else — no SDK runtime, no Workers or Node APIs — so it
 * bundles into the platform Worker without pulling the SDK's handler along, and it must stay so.
 *
 * @example
 * import { PluginResult } from "@updraft/plugin-sdk/protocol";
 * const parsed = PluginResult.safeParse(JSON.parse(text));
 */
export * from "./batch.ts";
export * from "./duration.ts";
export * from "./invocation.ts";
export * from "./manifest.ts";
export * from "./result.ts";
