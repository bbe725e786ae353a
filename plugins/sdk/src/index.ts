/**
 * @updraft/plugin-sdk — build Updraft plugins (protocol v1). Workers-safe: the Node adapter is in
 * `./node.ts` and the conformance runner in `./conformance.ts`, so neither lands in a Worker bundle;
 * the Workers entrypoint class (`toWorkerEntrypoint`) is in `./entrypoint.ts`, as it imports
 * `cloudflare:workers`.
 */
export {
  answerBatch,
  type BatchAnswer,
  BatchCall,
  MAX_BATCH_CALLS,
} from "./batch.ts";
export type { FinalResult, OperatorContext } from "./context.ts";
export {
  type ConnectionTestContext,
  type ConnectionTestResult,
  defineOperator,
  definePlugin,
  type Operator,
  type OperatorDefinition,
  type OperatorKind,
  type Plugin,
  type PluginDefinition,
  type RunResult,
} from "./define.ts";
export { NonRetriableError, RetryAfterError } from "./errors.ts";
export { type HandlerOptions, handlePluginRequest } from "./handler.ts";
export type { PluginHost } from "./host.ts";
export { Invocation, InvocationContext, type InvocationMeta, type Issue } from "./invocation.ts";
export {
  clearKeyCache,
  type KeyRing,
  KeysUnavailableError,
  keyRingFor,
  type VerificationKey,
} from "./keys.ts";
export type { LogEntry, LogLevel } from "./logs.ts";
export type { JsonSchema, Manifest, OperatorManifest } from "./manifest.ts";
export { DURATION_PATTERN, duration, parseDuration, secret } from "./schema.ts";
export { generateSigningKeyPair, type SigningKeyPair, type SignOptions, signInvocation } from "./sign.ts";
export { SIGNATURE_HEADERS, TOLERANCE_SECONDS, type Verdict, verifySignature } from "./verify.ts";
export { toWorker, workerHost } from "./worker.ts";
