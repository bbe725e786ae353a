/** Webhook deliveries as the dashboard shows them: verdicts, their tones, filters and bodies. */
import type { DeliverySummary, ReplayableVerdict, Verdict } from "$lib/api";

type Tone = "neutral" | "accent" | "success" | "warn" | "danger";

/** Accepted is the good path; a delivery we chose not to run is neutral; a refusal is a problem. */
export const VERDICT_TONE: Record<Verdict, Tone> = {
  accepted: "success",
  duplicate: "neutral",
  filtered: "neutral",
  paused: "warn",
  over_quota: "warn",
  unverified: "danger",
  invalid: "danger",
  too_large: "danger",
  failed: "danger",
};

export const VERDICTS = Object.keys(VERDICT_TONE) as Verdict[];

const REPLAYABLE: Record<ReplayableVerdict, true> = {
  accepted: true,
  paused: true,
  over_quota: true,
  failed: true,
};

/** The verdicts a range replay takes: verified deliveries whose body was kept whole. */
export const REPLAYABLE_VERDICTS = Object.keys(REPLAYABLE) as ReplayableVerdict[];

export function isVerdict(value: string | null): value is Verdict {
  return VERDICTS.some((v) => v === value);
}

export function verdictLabel(verdict: string): string {
  return verdict.replaceAll("_", " ");
}

/** What the list shows: `from` inclusive, `to` exclusive (ISO strings), as the server filters. */
export type DeliveryFilter = { verdict?: Verdict; from?: string; to?: string };

/** The filter in the inspector's URL (?verdict=&from=&to=). */
export function filterOf(params: { get(name: string): string | null }): DeliveryFilter {
  const verdict = params.get("verdict");
  return {
    verdict: isVerdict(verdict) ? verdict : undefined,
    from: params.get("from") || undefined,
    to: params.get("to") || undefined,
  };
}

export function matches(delivery: DeliverySummary, filter: DeliveryFilter): boolean {
  if (filter.verdict && delivery.status !== filter.verdict) return false;
  const at = Date.parse(delivery.received_at);
  if (filter.from && at < Date.parse(filter.from)) return false;
  if (filter.to && at >= Date.parse(filter.to)) return false;
  return true;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** An ISO instant as an `<input type="datetime-local">` value (local time, minutes). */
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** An `<input type="datetime-local">` value (local time) as an ISO instant, or undefined when empty. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** A body for people: JSON pretty-printed, text as it came. */
export function bodyText(body: unknown): { text: string; json: boolean } {
  if (typeof body === "string") return { text: body, json: false };
  return { text: JSON.stringify(body, null, 2) ?? "null", json: true };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const withSeconds = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** Deliveries come seconds apart: their times show the seconds. */
export function formatReceived(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : withSeconds.format(date);
}
