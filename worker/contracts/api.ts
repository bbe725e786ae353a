/**
 * Shapes of the public API (API.md), shared by the Worker's routes, the OpenAPI document and the dashboard.
 * Request bodies are strict: an unknown field is a 422, not silently dropped.
 */
import { z } from "zod";
import { TaskError } from "../engine/task-error";

// The one list of task error kinds lives with the engine that records them (a leaf module: zod only).
export { TASK_ERROR_KINDS, TaskError, TaskErrorKind } from "../engine/task-error";

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const Slug = z.string().regex(SLUG_PATTERN, "must match [a-z0-9][a-z0-9-]{0,62}");
export const SECRET_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const SecretName = z.string().regex(SECRET_NAME_PATTERN, "must match [A-Za-z_][A-Za-z0-9_]{0,127}");

export const ROLES = ["owner", "admin", "editor", "viewer"] as const;
export const Role = z.enum(ROLES);
export type Role = z.infer<typeof Role>;
/** Roles a token or invitation may carry: everything but owner (ownership belongs to people). */
export const GrantableRole = z.enum(["admin", "editor", "viewer"]);

export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;

// Identity
export const SignUpBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  email: z.email().max(254),
  password: z.string().min(8, "must be at least 8 characters").max(256),
});
export const SignInBody = z.strictObject({
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(256),
});
export const User = z.object({ id: z.string(), email: z.string(), name: z.string() });
export type User = z.infer<typeof User>;
export const SessionResponse = z.object({ user: User });
export const TenantRef = z.object({ slug: z.string(), name: z.string(), role: Role });
export const MeResponse = z.object({
  user: User.nullable(),
  token: z.object({ id: z.string(), name: z.string(), tenant: z.string(), role: Role }).nullable(),
  tenants: z.array(TenantRef),
});
export type MeResponse = z.infer<typeof MeResponse>;

// Tenants
export const CreateTenantBody = z.strictObject({ slug: Slug, name: z.string().trim().min(1).max(100) });
export const TenantSummary = z.object({ slug: z.string(), name: z.string() });
export const Quotas = z.object({
  pipelines: z.number().int(),
  runs_per_day: z.number().int(),
  concurrent_runs: z.number().int(),
  deliveries_per_minute: z.number().int(),
});
export const TenantDetail = z.object({
  slug: z.string(),
  name: z.string(),
  plan: z.string(),
  role: Role,
  quotas: Quotas,
  usage: z.object({
    pipelines: z.number().int(),
    members: z.number().int(),
    /** Runs started in the last 24 hours and runs queued or running now (from the run summaries). */
    runs_today: z.number().int(),
    active_runs: z.number().int(),
  }),
});
export type TenantDetail = z.infer<typeof TenantDetail>;

export const Member = z.object({ user_id: z.string(), email: z.string(), name: z.string(), role: Role });
export type Member = z.infer<typeof Member>;
export const MemberList = z.object({ items: z.array(Member) });
export const ChangeRoleBody = z.strictObject({ role: Role });
export const InviteBody = z.strictObject({ email: z.email().max(254), role: Role });
/** A pending invitation; `id` is public and names it for revoking, it does not open the link. */
export const Invitation = z.object({
  id: z.string(),
  email: z.string(),
  role: Role,
  created_at: z.string(),
  expires_at: z.string(),
});
export type Invitation = z.infer<typeof Invitation>;
/** The answer to creating one: accept_url carries the secret token and is shown only here. */
export const CreatedInvitation = Invitation.extend({ accept_url: z.string() });
export const InvitationList = z.object({ items: z.array(Invitation) });
export const InvitationPreview = z.object({
  tenant: TenantSummary,
  email: z.string(),
  role: Role,
  expires_at: z.string(),
});
export const AcceptedInvitation = z.object({ tenant: TenantSummary, role: Role });

export const CreateTokenBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  role: GrantableRole,
});
export const Token = z.object({
  id: z.string(),
  name: z.string(),
  role: Role,
  created_at: z.string(),
  last_used_at: z.string().nullable(),
});
export type Token = z.infer<typeof Token>;
export const CreatedToken = Token.extend({ token: z.string() });
export const TokenList = z.object({ items: z.array(Token) });

export const PutSecretBody = z.strictObject({
  value: z
    .string()
    .min(1)
    .max(64 * 1024),
});
export const SecretEntry = z.object({ name: z.string(), updated_at: z.string() });
export const SecretList = z.object({ items: z.array(SecretEntry) });

export const AuditEntry = z.object({
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  target: z.string(),
  ip: z.string().nullable(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;
export const AuditPage = z.object({ items: z.array(AuditEntry), next_cursor: z.string().nullable() });

// Pipelines
export const SpecErrorItem = z.object({
  path: z.string(),
  message: z.string(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
});
export type SpecErrorItem = z.infer<typeof SpecErrorItem>;
export const TriggerView = z.object({
  id: z.string(),
  kind: z.enum(["webhook", "schedule"]),
  url: z.string().optional(),
  /** Webhooks: how deliveries are verified (DESIGN.md §4). */
  scheme: z.string().optional(),
  /** Webhooks: the signing secret, shown to editors and above when it is generated. */
  secret: z.string().optional(),
  secret_source: z.enum(["generated", "tenant_secret", "none"]).optional(),
  /** Webhooks: a rotated-out secret keeps verifying until then (ISO), or null. */
  previous_secret_until: z.string().nullable().optional(),
  cron: z.string().optional(),
  timezone: z.string().optional(),
});
export type TriggerView = z.infer<typeof TriggerView>;
export const SavedPipeline = z.object({
  slug: z.string(),
  version: z.number().int(),
  triggers: z.array(TriggerView),
});
export const ValidationResult = z.object({ valid: z.boolean(), errors: z.array(SpecErrorItem) });
export const ScheduleView = z.object({ cron: z.string(), timezone: z.string(), catchup: z.boolean() });
export const PipelineSummary = z.object({
  slug: z.string(),
  name: z.string(),
  version: z.number().int(),
  paused: z.boolean(),
  schedule: ScheduleView.nullable(),
  last_run: z.object({ id: z.string(), status: z.string(), created_at: z.string() }).nullable(),
  updated_at: z.string(),
});
export type PipelineSummary = z.infer<typeof PipelineSummary>;
export const PipelinePage = z.object({ items: z.array(PipelineSummary), next_cursor: z.string().nullable() });
export const PipelineDetail = z.object({
  slug: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  version: z.number().int(),
  paused: z.boolean(),
  spec: z.record(z.string(), z.unknown()),
  source: z.string(),
  format: z.enum(["yaml", "json"]),
  triggers: z.array(TriggerView),
  next_runs: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});
export type PipelineDetail = z.infer<typeof PipelineDetail>;
export const PipelineVersion = z.object({
  version: z.number().int(),
  created_at: z.string(),
  created_by: z.string(),
});
export const PipelineVersionList = z.object({
  items: z.array(PipelineVersion),
  next_cursor: z.string().nullable(),
});
export const PipelineVersionDetail = PipelineVersion.extend({
  spec: z.record(z.string(), z.unknown()),
  source: z.string(),
  format: z.enum(["yaml", "json"]),
});
export const PauseState = z.object({ slug: z.string(), paused: z.boolean() });

export const Health = z.object({ ok: z.literal(true), version: z.string() });

export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

// Runs (API.md "Pipelines and runs"; statuses mirror engine/run/state.ts)
export const RUN_STATUSES = ["queued", "running", "success", "failed", "cancelled"] as const;
export const RunStatus = z.enum(RUN_STATUSES);
export const TaskStatus = z.enum([
  "pending",
  "scheduled",
  "running",
  "waiting",
  "up_for_retry",
  "success",
  "failed",
  "skipped",
  "upstream_failed",
  "cancelled",
]);
export const CreateRunBody = z.strictObject({ params: z.record(z.string(), z.unknown()).optional() });
export const CreatedRun = z.object({ id: z.string(), status: RunStatus });
export const RunSummary = z.object({
  id: z.string(),
  status: RunStatus,
  trigger: z.enum(["manual", "webhook", "schedule"]),
  version: z.number().int(),
  created_at: z.string(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  /** The schedule's fire time for scheduled and backfilled runs; null for manual and webhook runs. */
  logical_date: z.string().nullable(),
});
export type RunSummary = z.infer<typeof RunSummary>;
export const RunPage = z.object({ items: z.array(RunSummary), next_cursor: z.string().nullable() });
export const RunListQuery = ListQuery.extend({ status: RunStatus.optional() });
export const TaskInstanceView = z.object({
  id: z.string(),
  map_index: z.number().int(),
  status: TaskStatus,
  attempts: z.number().int(),
  started_at: z.string().nullable(),
  ended_at: z.string().nullable(),
  output: z.unknown(),
  error: TaskError.nullable().meta({
    description:
      "Why the instance did not succeed, for failed, up_for_retry, cancelled and upstream_failed instances: " +
      "`kind` to switch on (unknown: recorded before errors had kinds), `message` for people.",
  }),
});
export const RunDetail = RunSummary.extend({
  params: z.record(z.string(), z.unknown()),
  trigger_payload: z.unknown(),
  error: z.string().nullable(),
  tasks: z.array(TaskInstanceView),
  /** A webhook run: the delivery that started it, and the one it replays (a replay's run). */
  delivery: z.object({ delivery_id: z.string(), replayed_from: z.string().nullable() }).optional(),
});
export type RunDetail = z.infer<typeof RunDetail>;
export const RunState = z.object({ id: z.string(), status: z.string() });
export const RetryTaskBody = z.strictObject({ downstream: z.boolean().default(true) });
export const MarkTaskBody = z.strictObject({ status: z.enum(["success", "failed"]) });
export const TaskLogs = z.object({
  items: z.array(
    z.object({ at: z.string(), level: z.string(), message: z.string(), attempt: z.number().int() }),
  ),
});

// Tenant-wide runs (write-behind summaries; they may lag the pipeline's own view by a moment)
export const TenantRunSummary = RunSummary.extend({ pipeline: z.string() });
export const TenantRunPage = z.object({
  items: z.array(TenantRunSummary),
  next_cursor: z.string().nullable(),
});

// Backfill: runs for a schedule's logical dates in [from, to) (worker/api/backfill.ts)
export const BackfillBody = z.strictObject({
  from: z.iso.datetime({ offset: true }).meta({ description: "Start (inclusive), ISO 8601" }),
  to: z.iso.datetime({ offset: true }).meta({ description: "End (exclusive), ISO 8601" }),
  reprocess: z.enum(["missing", "failed", "all"]).meta({
    description: "missing: dates without a run; failed: also failed or cancelled ones; all: every date",
  }),
  dry_run: z.boolean().optional(),
});
export const BackfillRun = z.object({
  id: z.string().nullable(),
  logical_date: z.string(),
  status: z.string(),
});
export const BackfillResult = z.object({ runs: z.array(BackfillRun), dry_run: z.boolean() });

// Webhook deliveries (API.md "Webhooks"; worker/api/deliveries.ts, worker/hooks)
/** What the desk decided for a delivery (worker/hooks/desk.ts). */
export const VERDICTS = [
  "accepted",
  "duplicate",
  "filtered",
  "unverified",
  "invalid",
  "too_large",
  "paused",
  "over_quota",
  "failed",
] as const;
export const DeliveryVerdict = z.enum(VERDICTS);
/** Verdicts of deliveries that were verified: only those can be replayed. */
export const ReplayableVerdict = z.enum(["accepted", "paused", "over_quota", "failed"]);
export const DeliveryListQuery = ListQuery.extend({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  verdict: DeliveryVerdict.optional(),
  from: z.iso.datetime({ offset: true }).optional().meta({ description: "Received at or after (ISO 8601)" }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: "Received before (ISO 8601)" }),
});
export const DeliverySummary = z.object({
  id: z.string(),
  received_at: z.string(),
  trigger: z.string(),
  verified: z.boolean(),
  status: DeliveryVerdict,
  http_status: z.number().int(),
  run_id: z.string().nullable(),
  duplicate_of: z.string().nullable(),
  replayed_from: z.string().nullable(),
});
export const DeliveryPage = z.object({ items: z.array(DeliverySummary), next_cursor: z.string().nullable() });
export const DeliveryDetail = DeliverySummary.extend({
  detail: z.string().nullable(),
  headers: z
    .record(z.string(), z.string())
    .meta({ description: "Signature, authorization and cookie values redacted" }),
  query: z.record(z.string(), z.string()),
  body: z.unknown().meta({ description: "The body as JSON when it parses, else its text" }),
  body_bytes: z.number().int(),
  elapsed_ms: z.number(),
});
export const ReplayVersion = z.enum(["original", "latest"]).meta({
  description: "original: the pipeline version the delivery was for; latest: the newest version",
});
export const ReplayOneBody = z.strictObject({ version: ReplayVersion.optional() });
export const ReplayedOne = z.object({
  run_id: z.string(),
  delivery_id: z.string(),
  replayed_from: z.string(),
});
export const ReplayRangeBody = z.strictObject({
  from: z.iso.datetime({ offset: true }).meta({ description: "Received at or after (ISO 8601)" }),
  to: z.iso.datetime({ offset: true }).meta({ description: "Received before (ISO 8601)" }),
  verdict: ReplayableVerdict.optional().meta({
    description: "Deliveries with this verdict (default: accepted)",
  }),
  version: ReplayVersion,
  dry_run: z.boolean().optional(),
});
export const ReplayedItem = z.object({
  delivery_id: z.string(),
  replay_id: z.string().nullable(),
  run_id: z.string().nullable(),
  status: z.enum(["planned", "created", "skipped"]),
  reason: z.string().nullable().meta({ description: "Why a delivery is skipped" }),
  version: z.number().int().nullable(),
});
export const ReplayRangeResult = z.object({ runs: z.array(ReplayedItem), dry_run: z.boolean() });
export const RotateSecretBody = z.strictObject({
  grace: z.string().optional().meta({
    description: "How long the previous secret keeps verifying (a duration, default 24h, at most 7d)",
  }),
});
export const RotatedSecret = z.object({ secret: z.string(), previous_valid_until: z.string() });
export const TestDeliveryBody = z.strictObject({
  body: z.unknown().optional().meta({ description: "The JSON to send (default: a sample event)" }),
});
export const TestDeliveryResult = z.object({
  status: z.number().int(),
  body: z.record(z.string(), z.unknown()),
});
