/** Declaring plugins and operators. Definitions are checked once, when the plugin module loads. */
import type { z } from "zod";
import type { OperatorContext } from "./context.ts";
import type { Directive } from "./directives.ts";
import { buildManifest } from "./manifest.ts";
import {
  type ConnectionTestResult,
  NAME_PATTERN as NAME,
  type OperatorKind,
  type PublishedManifest,
} from "./protocol/index.ts";
import { parseDuration } from "./schema.ts";

/** What `run()` may return: the output, or `ctx.running()` / `ctx.waiting(ms)`. */
export type RunResult<Output> = Output | Directive;

export interface OperatorDefinition<I extends z.ZodType, O extends z.ZodType> {
  /** Lower-case, as used in `uses: plugin/operator@range`. */
  name: string;
  /** `action` does something once; `sensor` waits for a condition with `ctx.waiting(ms)`. */
  kind: OperatorKind;
  description: string;
  input: I;
  output: O;
  /** Default timeout the platform applies when the pipeline sets none; a duration string. */
  timeout?: string;
  /** Ask the platform for `{params, trigger, tasks, run, item}` in `ctx.context`. */
  context?: boolean;
  run(ctx: OperatorContext<z.output<I>, z.input<O>>): RunResult<z.input<O>> | Promise<RunResult<z.input<O>>>;
}

export interface Operator<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType>
  extends OperatorDefinition<I, O> {
  readonly timeout: string;
  readonly context: boolean;
}

export interface ConnectionTestContext {
  env: Readonly<Record<string, unknown>>;
  signal: AbortSignal;
}

export interface PluginDefinition {
  name: string;
  /** Semantic version; the platform pins installations to it. */
  version: string;
  title: string;
  description: string;
  categories: string[];
  /** An https or data: URL. */
  icon?: string;
  homepage?: string;
  /** Connection settings; wrap secret fields in `secret()`. */
  connection?: z.ZodType;
  /** Each operator's own types were checked by `defineOperator`; the list only needs their common shape. */
  operators: Operator[];
  /** Called by `POST {base}/connection/test` after the settings pass the connection schema. */
  testConnection?(
    connection: Record<string, unknown>,
    ctx: ConnectionTestContext,
  ): Promise<ConnectionTestResult>;
}

export interface Plugin extends PluginDefinition {
  readonly manifest: PublishedManifest;
  operator(name: string): Operator | undefined;
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/**
 * Declares one operator. Keep one per file; a breaking change becomes a new operator beside the old.
 *
 * @example
 * export const greet = defineOperator({
 *   name: "greet",
 *   kind: "action",
 *   description: "Says hello.",
 *   input: z.strictObject({ name: z.string() }),
 *   output: z.strictObject({ greeting: z.string() }),
 *   run: ({ input }) => ({ greeting: `Hello, ${input.name}` }),
 * });
 */
export function defineOperator<I extends z.ZodType, O extends z.ZodType>(
  definition: OperatorDefinition<I, O>,
): Operator<I, O> {
  if (!NAME.test(definition.name)) throw new Error(`operator name "${definition.name}" must match ${NAME}`);
  const timeout = definition.timeout ?? "30s";
  if (parseDuration(timeout) === null)
    throw new Error(`operator ${definition.name}: bad timeout "${timeout}"`);
  return { ...definition, timeout, context: definition.context === true };
}

/**
 * Declares a plugin; its manifest is built here, so an unrepresentable schema fails at load time.
 *
 * @example
 * export default toWorker(
 *   definePlugin({
 *     name: "hello", version: "1.0.0", title: "Hello", description: "Greetings.",
 *     categories: ["examples"], operators: [greet],
 *   }),
 * );
 */
export function definePlugin(definition: PluginDefinition): Plugin {
  if (!NAME.test(definition.name)) throw new Error(`plugin name "${definition.name}" must match ${NAME}`);
  if (!SEMVER.test(definition.version))
    throw new Error(`plugin version "${definition.version}" is not semver`);
  const byName = new Map<string, Operator>();
  for (const operator of definition.operators) {
    if (byName.has(operator.name)) throw new Error(`operator "${operator.name}" is declared twice`);
    byName.set(operator.name, operator);
  }
  const manifest = buildManifest(definition);
  return { ...definition, manifest, operator: (name) => byName.get(name) };
}

export { SEMVER as SEMVER_PATTERN };
