/** A protocol v1 invocation for runner tests: a 5 s deadline unless the overrides say otherwise. */
import type { Invocation } from "../../worker/runner/invoke";

export function invocation(input: Record<string, unknown>, overrides: Partial<Invocation> = {}): Invocation {
  const now = Date.now();
  return {
    invocation_id: `inv_${crypto.randomUUID()}`,
    idempotency_key: "tk_test",
    attempt: 1,
    tenant: "acme",
    pipeline: "demo",
    run: "run_1",
    task: "t",
    map_index: -1,
    logical_date: null,
    input,
    connection: null,
    callback_url: "https://updraft.invalid/callbacks/cb_x",
    deadline: new Date(now + 5000).toISOString(),
    task_started_at: new Date(now).toISOString(),
    ...overrides,
  };
}
