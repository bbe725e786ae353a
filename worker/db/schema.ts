/** Mirrors migrations/: one interface per table. Row types stay in db/; API responses map to contracts/. */
import type { Generated } from "kysely";
import type { Role } from "../contracts/api";

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  created_at: string;
}
export interface SessionsTable {
  token_hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}
export interface SignInFailuresTable {
  key: string;
  failures: number;
  window_started_at: string;
}
export interface TenantsTable {
  id: string;
  slug: string;
  name: string;
  plan: string;
  data_key: string;
  created_at: string;
}
export interface MembershipsTable {
  tenant_id: string;
  user_id: string;
  role: Role;
  created_at: string;
}
export interface InvitationsTable {
  /** Public: names the invitation in lists and revocation; the link carries a separate secret. */
  id: string;
  /** SHA-256 of the accept link's token; null only for invitations accepted before migration 0009. */
  token_hash: string | null;
  tenant_id: string;
  email: string;
  role: Role;
  invited_by: string;
  created_at: string;
  expires_at: string;
  accepted_at: string | null;
  accepted_by: string | null;
}
export interface ApiTokensTable {
  id: string;
  tenant_id: string;
  name: string;
  role: Exclude<Role, "owner">;
  token_hash: string;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
}
export interface SecretsTable {
  tenant_id: string;
  name: string;
  ciphertext: string;
  updated_at: string;
  updated_by: string;
}
export interface AuditLogTable {
  seq: Generated<number>;
  tenant_id: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  ip: string | null;
}
export interface PipelinesTable {
  id: string;
  tenant_id: string;
  slug: string;
  name: string;
  paused: number;
  latest_version: number;
  schedule: string | null;
  created_at: string;
  updated_at: string;
  /** When the cron reconciler next looks at the pipeline's clock (ms; 0 = at once); see migration 0008. */
  reconcile_at: Generated<number>;
  /** Bumped by every write that changes what the pipeline's object holds (migration 0012). */
  revision: Generated<number>;
  /** The latest revision the pipeline's object acknowledged; behind `revision`: due a re-sync (0013). */
  synced_revision: Generated<number>;
  /** When the cron re-syncs an object that is behind (ms; 0 = at once); later after a failure (0013). */
  resync_at: Generated<number>;
  /** Since when the object has been behind `revision` (ms), the re-syncs' queue order; null in step (0016). */
  behind_since: number | null;
}
export interface PipelineVersionsTable {
  pipeline_id: string;
  version: number;
  spec: string;
  source: string;
  format: "yaml" | "json";
  digest: string;
  created_at: string;
  created_by: string;
}
export interface TriggersTable {
  hook_id: string;
  tenant_id: string;
  pipeline_id: string;
  trigger_id: string;
  secret: string | null;
  /** A rotated-out generated secret and the end of its grace (ISO). */
  previous_secret: string | null;
  previous_until: string | null;
  /** The tenant secret the trigger's spec names, if any. */
  secret_name: string | null;
  created_at: string;
}

export interface RunsTable {
  id: string;
  tenant_id: string;
  pipeline_id: string;
  pipeline_slug: string;
  status: string;
  trigger: string;
  version: number;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  seq: number;
  /** The schedule's fire time (ISO) of a scheduled or backfilled run; null otherwise. */
  logical_date: string | null;
}

/** A marketplace plugin (migration 0014); `publisher_tenant_id` is null for first-party plugins. */
export interface PluginsTable {
  name: string;
  publisher_tenant_id: string | null;
  visibility: "public" | "private";
  title: string;
  description: string;
  /** JSON array of strings. */
  categories: string;
  latest_version: string;
  created_at: string;
  updated_at: string;
}
/** One immutable published version: its manifest as published and where its operators are called. */
export interface PluginVersionsTable {
  plugin: string;
  version: string;
  manifest: string;
  digest: string;
  base_url: string | null;
  binding: string | null;
  published_at: string;
  published_by: string;
}
/** A tenant's installation of a plugin version (migration 0015). */
export interface InstallationsTable {
  id: string;
  tenant_id: string;
  name: string;
  plugin: string;
  version: string;
  /** JSON object of the connection's plain fields. */
  config: string;
  /** Ciphertext of a JSON object of the `writeOnly` fields, or null when none is set. */
  secrets: string | null;
  /** JSON array of the names of the secret fields that are set. */
  secret_fields: string;
  created_at: string;
  created_by: string;
  updated_at: string;
  updated_by: string;
}

/** Fixed-window counts of rate-limited actions (migration 0017, worker/marketplace/limits.ts). */
export interface ActionCountsTable {
  /** The action and whose it is: "publish:<tenant>", "test:<installation>", "test-tenant:<tenant>". */
  key: string;
  count: number;
  /** Milliseconds since the epoch. */
  window_ends_at: number;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  sign_in_failures: SignInFailuresTable;
  tenants: TenantsTable;
  memberships: MembershipsTable;
  invitations: InvitationsTable;
  api_tokens: ApiTokensTable;
  secrets: SecretsTable;
  plugins: PluginsTable;
  plugin_versions: PluginVersionsTable;
  installations: InstallationsTable;
  audit_log: AuditLogTable;
  pipelines: PipelinesTable;
  pipeline_versions: PipelineVersionsTable;
  triggers: TriggersTable;
  runs: RunsTable;
  action_counts: ActionCountsTable;
}
