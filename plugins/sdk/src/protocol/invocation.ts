/**
 * What the platform POSTs to `{base}/operators/{name}` (PROTOCOL.md §3) and to `{base}/connection/test`
 * (§6). Known fields are checked as strictly as an API body; unknown top-level fields pass through so a
 * newer platform can add fields without breaking older plugins.
 */
import { z } from "zod";
import { NAME_PATTERN } from "./manifest.ts";

/** Request bodies above this are refused (`413 too_large`) before any parsing or signature work. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

const isoTime = z.iso.datetime({ offset: true });
const identifier = z.string().min(1).max(512);
const jsonObject = z.record(z.string(), z.unknown());

/**
 * Extension: the manifest `name` of the plugin the platform means to call. The body is signed, so the
 * recipient is too: a plugin refuses a request addressed to another (`401 wrong_recipient`), which
 * keeps a plugin that received a signed request from replaying it to another plugin. Optional: older
 * platforms do not send it.
 */
const Recipient = z.string().regex(NAME_PATTERN).optional();

/**
 * What an operator declared with `context: true` receives: the same names pipeline expressions see.
 * Secrets are never part of it.
 */
export const InvocationContext = z.looseObject({
  params: jsonObject.default({}),
  trigger: z.unknown().optional(),
  tasks: jsonObject.default({}),
  run: jsonObject.default({}),
  item: z.unknown().optional(),
});
export type InvocationContext = z.output<typeof InvocationContext>;

const InvocationFields = z.object({
  invocation_id: identifier,
  idempotency_key: identifier,
  attempt: z.number().int().min(1),
  tenant: identifier,
  pipeline: identifier,
  run: identifier,
  task: identifier,
  // -1 (Airflow's convention) or null when the task is not mapped.
  map_index: z.number().int().min(-1).nullable(),
  logical_date: isoTime.nullable(),
  input: jsonObject,
  // null when the plugin has no connection settings or the task uses no installation.
  connection: jsonObject.nullable(),
  callback_url: z.url({ protocol: /^https?$/ }),
  deadline: isoTime,
  // Extension: when the task instance first started, so sensors can stay stateless across pokes.
  task_started_at: isoTime.optional(),
  // Extension: only sent to operators that declare `context: true`.
  context: InvocationContext.optional(),
  plugin: Recipient,
});

/**
 * The invocation body schema: known fields strict, unknown top-level fields kept (forward compatible).
 *
 * @example
 * const parsed = Invocation.safeParse(JSON.parse(text));
 * if (parsed.success) console.log(parsed.data.task, parsed.data.attempt);
 */
export const Invocation = InvocationFields.loose();
export type Invocation = z.output<typeof Invocation>;

/** The fields an operator sees as `ctx.invocation`: everything except its input, connection and context. */
export type InvocationMeta = Omit<z.output<typeof InvocationFields>, "input" | "connection" | "context">;

/** Body of `POST {base}/connection/test`; `plugin` names the recipient as in an invocation. */
export const ConnectionTest = z.looseObject({ connection: jsonObject.nullable(), plugin: Recipient });
export type ConnectionTest = z.output<typeof ConnectionTest>;

/** The answer to a connection test. */
export const ConnectionTestResult = z.object({ ok: z.boolean(), detail: z.string() });
export type ConnectionTestResult = z.output<typeof ConnectionTestResult>;
