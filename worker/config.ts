/** Configuration read from Worker vars, parsed once per call site; bad values fall back to defaults. */
export type Quotas = {
  pipelines: number;
  runs_per_day: number;
  concurrent_runs: number;
  deliveries_per_minute: number;
};

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

export function quotasOf(env: Env): Quotas {
  return {
    pipelines: positiveInt(env.QUOTA_PIPELINES, 100),
    runs_per_day: positiveInt(env.QUOTA_RUNS_PER_DAY, 10_000),
    concurrent_runs: positiveInt(env.QUOTA_CONCURRENT_RUNS, 50),
    deliveries_per_minute: positiveInt(env.QUOTA_DELIVERIES_PER_MINUTE, 600),
  };
}

export const VERSION = "0.1.0";
