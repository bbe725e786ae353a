/** How every caller addresses a tenant's TenantDO: one object per tenant, named by its id. */
export function tenantStub(env: Env, tenantId: string) {
  return env.TENANT.get(env.TENANT.idFromName(tenantId));
}
