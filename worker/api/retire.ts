/**
 * Deleting pipelines (one, or every one of a deleted tenant) in the order that leaves nothing running
 * and nothing half-gone: each object stops its clock and cancels its runs first, then D1 loses the
 * rows, then the objects empty their storage. A purge that fails leaves rows nobody reads any more; it
 * is logged, not answered as an error, since the deletion itself is done.
 */
import { pipelineStub } from "../pipeline/address";

export type Retired = { purge(): Promise<void> };

export async function retirePipelines(
  env: Env,
  tenantId: string,
  pipelineIds: readonly string[],
  reason: string,
): Promise<Retired> {
  const stubs = pipelineIds.map((id) => pipelineStub(env, tenantId, id));
  await Promise.all(stubs.map((stub) => stub.retire(reason)));
  return {
    async purge() {
      const results = await Promise.allSettled(stubs.map((stub) => stub.purge()));
      for (const [i, result] of results.entries())
        if (result.status === "rejected")
          console.error("pipeline object not purged", tenantId, pipelineIds[i], result.reason);
    },
  };
}
