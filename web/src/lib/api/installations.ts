/** A tenant's installations, typed by the Worker's marketplace contracts (types only: no schema code ships). */
import type { z } from "zod";
import type * as C from "$contracts/marketplace";
import { request } from "./client";

export type Installation = z.infer<typeof C.Installation>;
export type InstallationList = z.infer<typeof C.InstallationList>;
export type InstallBody = z.input<typeof C.InstallBody>;
export type InstallationPatch = z.input<typeof C.InstallationPatch>;
export type ConnectionTested = z.infer<typeof C.ConnectionTested>;

/** How answers show a secret setting that is set; sent back unchanged, it keeps the stored value. */
export const MASKED = "********";

const seg = encodeURIComponent;
const base = (tenant: string) => `/api/tenants/${seg(tenant)}/installations`;
const one = (tenant: string, id: string) => `${base(tenant)}/${seg(id)}`;

export const installations = {
  list: (tenant: string) => request<InstallationList>("GET", base(tenant)),
  get: (tenant: string, id: string) => request<Installation>("GET", one(tenant, id)),
  /** 422 with `errors[].path` (`config.api_key`, `name`, `version`); 409 when the name is taken. */
  install: (tenant: string, body: InstallBody) => request<Installation>("POST", base(tenant), { json: body }),
  /** `config` replaces the plain settings; a secret left out keeps its value, `null` clears it. */
  change: (tenant: string, id: string, patch: InstallationPatch) =>
    request<Installation>("PATCH", one(tenant, id), { json: patch }),
  /** 409 while the latest version of a pipeline uses it; the detail names those pipelines. */
  remove: (tenant: string, id: string) => request<void>("DELETE", one(tenant, id)),
  test: (tenant: string, id: string) => request<ConnectionTested>("POST", `${one(tenant, id)}/test`),
};
