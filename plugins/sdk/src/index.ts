/**
 * @updraft/plugin-sdk — build Updraft plugins (protocol v1). Workers-safe: the Node adapter is in
 * `./node.ts` and the conformance runner in `./conformance.ts`, so neither lands in a Worker bundle;
 * the Workers entrypoint class (`toWorkerEntrypoint`) is in `./entrypoint.ts`, as it imports
 * `cloudflare:workers`.
 */
export { answerBatch } from "./batch.ts";
export type { FinalResult, OperatorContext } from "./context.ts";
export {
  type ConnectionTestContext,
  defineOperator,
  definePlugin,
  type Operator,
  type OperatorDefinition,
  type Plugin,
  type PluginDefinition,
  type RunResult,
} from "./define.ts";
export { NonRetriableError, RetryAfterError } from "./errors.ts";
export { type HandlerOptions, handlePluginRequest } from "./handler.ts";
export type { PluginHost } from "./host.ts";
export {
  clearKeyCache,
  type KeyRing,
  KeysUnavailableError,
  keyRingFor,
  type VerificationKey,
} from "./keys.ts";
// The wire shapes, also importable alone (and by the platform) as `@updraft/plugin-sdk/protocol`.
export {
  type BatchAnswer,
  BatchCall,
  type ConnectionTestResult,
  Invocation,
  InvocationContext,
  type InvocationMeta,
  type Issue,
  type JsonSchema,
  type LogEntry,
  type LogLevel,
  MAX_BATCH_CALLS,
  type OperatorKind,
  type PublishedManifest as Manifest,
  type PublishedOperator as OperatorManifest,
} from "./protocol/index.ts";
export { clearSeenDeliveries, firstDelivery, MAX_SEEN_IDS } from "./replay.ts";
export { DURATION_PATTERN, duration, parseDuration, secret } from "./schema.ts";
export { generateSigningKeyPair, type SigningKeyPair, type SignOptions, signInvocation } from "./sign.ts";
export { SIGNATURE_HEADERS, TOLERANCE_SECONDS, type Verdict, verifySignature } from "./verify.ts";
export { toWorker, workerHost } from "./worker.ts";
