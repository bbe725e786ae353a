/**
 * The hooks as the API last synced them (the `hooks` table): per hook id, the trigger, its secrets'
 * ciphertexts and the paused flag. Parsed once per sync, not once per delivery.
 */
import { parseStored } from "../engine";
import { HookConfig } from "./types";

export class HookTable {
  /** Parsed hook configs (null: not read yet). */
  private cached: Map<string, HookConfig> | null = null;

  constructor(private readonly sql: SqlStorage) {}

  /** The hooks of the latest version replace the ones before. */
  set(hooks: readonly HookConfig[]): void {
    this.cached = null;
    this.sql.exec("DELETE FROM hooks");
    for (const hook of hooks) {
      this.sql.exec(
        "INSERT INTO hooks (hook_id, trigger_id, config) VALUES (?, ?, ?)",
        hook.hook_id,
        hook.trigger.id,
        JSON.stringify(hook),
      );
    }
  }

  hook(hookId: string): HookConfig | null {
    return this.all().get(hookId) ?? null;
  }

  /** The hook of a trigger of the latest version, or null. */
  ofTrigger(triggerId: string): HookConfig | null {
    for (const hook of this.all().values()) if (hook.trigger.id === triggerId) return hook;
    return null;
  }

  /** Drops rotated-out secrets whose grace ended; returns the earliest grace end still ahead, or null. */
  dropExpiredSecrets(now: number): number | null {
    const hooks = [...this.all().values()];
    const kept = hooks.map((hook) => ({
      ...hook,
      secrets: hook.secrets.filter((s) => s.until === null || s.until > now),
    }));
    if (kept.some((hook, i) => hook.secrets.length !== hooks[i]?.secrets.length)) this.set(kept);
    return graceEnd(kept);
  }

  private all(): Map<string, HookConfig> {
    if (this.cached) return this.cached;
    const rows = this.sql
      .exec<{ hook_id: string; config: string }>("SELECT hook_id, config FROM hooks")
      .toArray();
    this.cached = new Map(rows.map((r) => [r.hook_id, parseStored(HookConfig, r.config, "webhook config")]));
    return this.cached;
  }
}

/** The earliest end of a rotated-out secret's grace among the hooks, or null. */
export function graceEnd(hooks: readonly HookConfig[]): number | null {
  const ends = hooks.flatMap((hook) => hook.secrets.flatMap((s) => (s.until === null ? [] : [s.until])));
  return ends.length === 0 ? null : Math.min(...ends);
}
