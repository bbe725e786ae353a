/** What the PipelineDO's RPC methods take and answer; the API maps these to HTTP. */
import { z } from "zod";
import type { PipelineSpec, RunStatus, TaskError, TaskStatus } from "../engine";
import type { AuditRecord } from "./audit";

export type TriggerKind = "manual" | "webhook" | "schedule";

/** Whose pipeline an object runs; the object keeps it (meta table) and store.ts reads it back with this. */
export const PipelineIdentity = z.object({
  tenant_id: z.string(),
  tenant_slug: z.string(),
  pipeline_id: z.string(),
  pipeline_slug: z.string(),
  /** The product's origin, for callback URLs. */
  origin: z.string(),
});
export type PipelineIdentity = z.infer<typeof PipelineIdentity>;

export type CreateRunInput = PipelineIdentity & {
  spec: PipelineSpec;
  version: number;
  params: Record<string, unknown>;
  trigger: { kind: TriggerKind; payload?: unknown };
  logical_date?: string | null;
  /** A person's start: its audit entry is written with the run (its target gets `/<run id>` appended). */
  audit?: AuditRecord;
};

export type RunSummary = {
  id: string;
  status: RunStatus;
  trigger: TriggerKind;
  version: number;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  /** The schedule's fire time for scheduled and backfilled runs; null for manual and webhook runs. */
  logical_date: string | null;
};

export type TaskView = {
  id: string;
  map_index: number;
  status: TaskStatus;
  attempts: number;
  started_at: string | null;
  ended_at: string | null;
  output: unknown;
  /** Set for failed, up_for_retry, cancelled and upstream_failed instances (engine/run/errors.ts). */
  error: TaskError | null;
};

export type RunDetail = RunSummary & {
  params: Record<string, unknown>;
  trigger_payload: unknown;
  error: string | null;
  tasks: TaskView[];
};

export type LogLine = { at: string; level: string; message: string; attempt: number };

/** The answer of every state-changing RPC: done, the run does not exist, or the planner refused. */
export type Changed<T> =
  | { ok: true; value: T }
  | { ok: false; error: "not_found"; detail: string }
  | { ok: false; error: "conflict" | "invalid"; detail: string };

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
