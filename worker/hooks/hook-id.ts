/**
 * Hook ids: `hk_<object id>_<random>`. The first part is the pipeline object's Durable Object id (hex),
 * so a delivery reaches the object without a D1 lookup; the second is 16 random bytes the object checks
 * against its hooks table, so an id cannot be guessed from a pipeline's object id (DESIGN.md §4).
 */
import { toBase64Url } from "../crypto/encoding";
import { randomBytes } from "../crypto/random";

const HOOK_ID = /^hk_([0-9a-f]{64})_([A-Za-z0-9_-]{22})$/;

export function newHookId(env: Env, tenantId: string, pipelineId: string): string {
  const object = env.PIPELINE.idFromName(`${tenantId}:${pipelineId}`).toString();
  return `hk_${object}_${toBase64Url(randomBytes(16))}`;
}

/** Whether a stored hook id has today's form (earlier ones did not name their object). */
export function isRoutableHookId(hookId: string): boolean {
  return HOOK_ID.test(hookId);
}

/** The object a hook id names, or null for an id of any other form (a 404, without asking anyone). */
export function hookObject(env: Env, hookId: string): ReturnType<Env["PIPELINE"]["get"]> | null {
  const object = HOOK_ID.exec(hookId)?.[1];
  if (!object) return null;
  try {
    return env.PIPELINE.get(env.PIPELINE.idFromString(object));
  } catch {
    // Not an id of this namespace.
    return null;
  }
}
