/**
 * Places for new runs, asked of the tenant's ledger (worker/tenant) before the runs are created, by
 * every path that creates runs: a person or token (all or none), a backfill (all or none), the clock
 * (as many as fit) and a webhook delivery (one, within the deliveries-per-minute budget too). Run ids
 * are made here, so the ledger records the runs it admitted by id.
 */
import { tenantStub } from "../tenant/address";
import type { Refusal, RunQuotas } from "../tenant/ledger";

export type Places =
  | { kind: "admitted"; ids: string[]; refused: Refusal | null }
  | { kind: "refused"; refused: Refusal }
  /** The ledger could not be asked (its object failed); nothing was admitted. */
  | { kind: "unavailable" };

export function newRunId(): string {
  return `run_${crypto.randomUUID().replaceAll("-", "")}`;
}

export async function admitRuns(
  env: Env,
  where: { tenant_id: string; pipeline_id: string },
  count: number,
  quotas: RunQuotas,
  mode: "all" | "some",
  /** For a webhook delivery's run: the tenant's deliveries-per-minute budget. */
  deliveriesPerMinute?: number,
): Promise<Places> {
  if (count === 0) return { kind: "admitted", ids: [], refused: null };
  const runs = Array.from({ length: count }, newRunId);
  try {
    const stub = tenantStub(env, where.tenant_id);
    const { admitted, refused } = await stub.admit({
      pipeline: where.pipeline_id,
      runs,
      quotas,
      mode,
      ...(deliveriesPerMinute === undefined ? {} : { deliveries_per_minute: deliveriesPerMinute }),
    });
    if (refused && admitted.length === 0) return { kind: "refused", refused };
    return { kind: "admitted", ids: admitted, refused };
  } catch (error) {
    console.error("run ledger unavailable", where.tenant_id, error);
    return { kind: "unavailable" };
  }
}

/** Admitted places whose runs were not created after all (best effort: the ledger's repair is the net). */
export async function releaseRuns(env: Env, tenantId: string, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  try {
    await tenantStub(env, tenantId).release([...ids]);
  } catch (error) {
    console.error("run ledger: places not released", tenantId, ids.length, error);
  }
}

/**
 * Creates runs on admitted places (synchronously: what `create` writes commits together); the places
 * of runs that do not exist afterwards go back to the ledger, also when `create` threw part-way.
 */
export async function createOnPlaces<T>(
  env: Env,
  runs: { has(id: string): boolean },
  tenantId: string,
  admitted: readonly string[],
  create: () => T,
): Promise<T> {
  try {
    return create();
  } finally {
    const unused = admitted.filter((id) => !runs.has(id));
    if (unused.length > 0) await releaseRuns(env, tenantId, unused);
  }
}
