/** Whether this server has the tenant-wide run list (GET /api/tenants/{t}/runs): asked once per tenant. */
import { ApiError, runs } from "$lib/api";

class TenantRunsAvailability {
  known = $state<Record<string, boolean>>({});
  #asked = new Set<string>();

  check(tenant: string): void {
    if (this.#asked.has(tenant)) return;
    this.#asked.add(tenant);
    runs.listAll(tenant, { limit: 1 }).then(
      () => (this.known[tenant] = true),
      (e: unknown) => {
        // Only a missing route hides the nav item; a passing failure asks again next time.
        if (e instanceof ApiError && (e.status === 404 || e.status === 405)) this.known[tenant] = false;
        else this.#asked.delete(tenant);
      },
    );
  }
}

export const tenantRuns = new TenantRunsAvailability();
