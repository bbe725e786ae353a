/** How runs and task instances read on screen: status colours, aggregate states, durations, params forms. */
import type { RunStatus, TaskErrorKind, TaskInstance, TaskStatus } from "$lib/api";

export const RUN_STATUSES: RunStatus[] = ["queued", "running", "success", "failed", "cancelled"];
export const FINISHED_RUN: ReadonlySet<string> = new Set(["success", "failed", "cancelled"]);

/** One colour per status, shared by badges, graph nodes, Gantt bars and grid cells. */
export const STATUS_COLOR: Record<RunStatus | TaskStatus | "none", string> = {
  queued: "#94a3b8",
  pending: "#cbd5e1",
  scheduled: "#93c5fd",
  running: "#2563eb",
  waiting: "#8b5cf6",
  up_for_retry: "#d97706",
  success: "#16a34a",
  failed: "#dc2626",
  upstream_failed: "#ea580c",
  skipped: "#d4a5c8",
  cancelled: "#6b7280",
  none: "#e2e5ea",
};

export function statusLabel(status: string): string {
  return status.replaceAll("_", " ");
}

/** Statuses whose instances carry an `error` in the run detail; any other status has none. */
export const ERROR_STATUSES: ReadonlySet<string> = new Set([
  "failed",
  "up_for_retry",
  "cancelled",
  "upstream_failed",
]);

/** An error's kind as a badge: the task's own failures in red, what happened around it in grey. */
export function errorTone(kind: TaskErrorKind): "danger" | "neutral" {
  return kind === "cancelled" || kind === "upstream_failed" ? "neutral" : "danger";
}

/** The state a task (all its instances) shows as one: the most urgent instance wins. */
const URGENCY: TaskStatus[] = [
  "running",
  "up_for_retry",
  "scheduled",
  "waiting",
  "failed",
  "upstream_failed",
  "pending",
  "cancelled",
  "success",
  "skipped",
];

export function aggregateStatus(instances: TaskInstance[]): TaskStatus | "none" {
  if (instances.length === 0) return "none";
  const present = new Set(instances.map((i) => i.status));
  // Finished mapped tasks: success when every instance succeeded or was skipped.
  for (const status of URGENCY) if (present.has(status)) return status;
  return "none";
}

export function isMapped(instances: TaskInstance[]): boolean {
  return instances.some((i) => i.map_index >= 0);
}

/** "1.2 s", "3 min 4 s", "1 h 2 min"; "—" before it started. */
export function formatDuration(ms: number | null): string {
  if (ms === null || Number.isNaN(ms)) return "—";
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function durationOf(started: string | null, ended: string | null, now = Date.now()): number | null {
  if (!started) return null;
  const end = ended ? Date.parse(ended) : now;
  return end - Date.parse(started);
}

export function instanceKey(task: string, mapIndex: number): string {
  return mapIndex < 0 ? task : `${task}[${mapIndex}]`;
}

/** Pretty JSON cut to `max` characters so a huge output cannot freeze the page. */
export function prettyJson(value: unknown, max = 4000): { text: string; truncated: boolean } {
  const text = JSON.stringify(value, null, 2) ?? "null";
  return text.length > max ? { text: text.slice(0, max), truncated: true } : { text, truncated: false };
}

/** The part of a spec the run views read; everything else stays opaque. */
export type SpecTask = {
  id: string;
  uses?: string;
  needs?: string[];
  for_each?: unknown;
  when?: unknown;
  trigger_rule?: string;
};

export function specTasks(spec: Record<string, unknown> | undefined): SpecTask[] {
  const tasks = spec?.tasks;
  if (!Array.isArray(tasks)) return [];
  return tasks.filter(
    (t): t is SpecTask => typeof t === "object" && t !== null && typeof (t as SpecTask).id === "string",
  );
}
