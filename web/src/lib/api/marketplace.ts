/** The marketplace routes, typed by the Worker's marketplace contracts (types only: no schema code ships). */
import type { z } from "zod";
import type * as C from "$contracts/marketplace";
import { request } from "./client";

export type Visibility = z.infer<typeof C.Visibility>;
export type PluginSummary = z.infer<typeof C.PluginSummary>;
export type PluginList = z.infer<typeof C.PluginList>;
export type PluginPage = z.infer<typeof C.PluginPage>;
export type PluginVersionView = z.infer<typeof C.PluginVersionView>;
export type PublicationBody = z.input<typeof C.PublicationBody>;
export type Published = z.infer<typeof C.Published>;
export type PluginQuery = { q?: string; category?: string; cursor?: string; limit?: number };

const seg = encodeURIComponent;
const pluginPath = (plugin: string) => `/api/marketplace/plugins/${seg(plugin)}`;

export const marketplace = {
  list: (query: PluginQuery = {}) =>
    request<PluginList>("GET", "/api/marketplace/plugins", { query: { ...query } }),
  get: (plugin: string) => request<PluginPage>("GET", pluginPath(plugin)),
  version: (plugin: string, version: string) =>
    request<PluginVersionView>("GET", `${pluginPath(plugin)}/versions/${seg(version)}`),
  /** 201 for a new version, 200 with `unchanged: true` when this manifest was already this version. */
  publish: (tenant: string, body: PublicationBody) =>
    request<Published>("POST", `/api/tenants/${seg(tenant)}/publications`, { json: body }),
};
