/** Every API route the dashboard calls, typed by the Worker's contracts. */
import { request } from "./client";
import type * as T from "./types";

export { type Blueprint, type BlueprintList, type BlueprintTrigger, blueprints } from "./blueprints";
export { ApiError, errorMessage, onUnauthorized } from "./client";
export type * from "./types";

const seg = encodeURIComponent;
const tenantPath = (tenant: string) => `/api/tenants/${seg(tenant)}`;
const pipelinePath = (tenant: string, pipeline: string) => `${tenantPath(tenant)}/pipelines/${seg(pipeline)}`;

/** JSON specs go out as JSON, everything else as YAML (JSON is valid YAML, but the server keeps the format). */
function specBody(source: string) {
  const json = source.trimStart().startsWith("{");
  return { text: source, contentType: json ? "application/json" : "application/yaml" };
}

export const auth = {
  signUp: (body: { name: string; email: string; password: string }) =>
    request<{ user: T.User }>("POST", "/api/auth/sign-up/email", { json: body }),
  signIn: (body: { email: string; password: string }) =>
    request<{ user: T.User }>("POST", "/api/auth/sign-in/email", { json: body }),
  signOut: () => request<void>("POST", "/api/auth/sign-out"),
  me: () => request<T.Me>("GET", "/api/me"),
};

export const tenants = {
  create: (body: { slug: string; name: string }) =>
    request<T.TenantSummary>("POST", "/api/tenants", { json: body }),
  get: (tenant: string) => request<T.TenantDetail>("GET", tenantPath(tenant)),
};

export const members = {
  list: (tenant: string) => request<T.Items<T.Member>>("GET", `${tenantPath(tenant)}/members`),
  setRole: (tenant: string, userId: string, role: T.Role) =>
    request<T.Member>("PATCH", `${tenantPath(tenant)}/members/${seg(userId)}`, { json: { role } }),
  remove: (tenant: string, userId: string) =>
    request<void>("DELETE", `${tenantPath(tenant)}/members/${seg(userId)}`),
};

export const invitations = {
  create: (tenant: string, body: { email: string; role: T.Role }) =>
    request<T.CreatedInvitation>("POST", `${tenantPath(tenant)}/invitations`, { json: body }),
  list: (tenant: string) => request<T.Items<T.Invitation>>("GET", `${tenantPath(tenant)}/invitations`),
  revoke: (tenant: string, id: string) =>
    request<void>("DELETE", `${tenantPath(tenant)}/invitations/${seg(id)}`),
  /** By the secret token of an accept link, not by the invitation's public id. */
  get: (token: string) => request<T.InvitationPreview>("GET", `/api/invitations/${seg(token)}`),
  accept: (token: string) => request<T.AcceptedInvitation>("POST", `/api/invitations/${seg(token)}/accept`),
};

export const tokens = {
  create: (tenant: string, body: { name: string; role: T.GrantableRole }) =>
    request<T.CreatedToken>("POST", `${tenantPath(tenant)}/tokens`, { json: body }),
  list: (tenant: string) => request<T.Items<T.Token>>("GET", `${tenantPath(tenant)}/tokens`),
  revoke: (tenant: string, id: string) => request<void>("DELETE", `${tenantPath(tenant)}/tokens/${seg(id)}`),
};

export const secrets = {
  put: (tenant: string, name: string, value: string) =>
    request<void>("PUT", `${tenantPath(tenant)}/secrets/${seg(name)}`, { json: { value } }),
  list: (tenant: string) => request<T.Items<T.SecretEntry>>("GET", `${tenantPath(tenant)}/secrets`),
  remove: (tenant: string, name: string) =>
    request<void>("DELETE", `${tenantPath(tenant)}/secrets/${seg(name)}`),
};

export const audit = {
  page: (tenant: string, cursor?: string, limit = 50) =>
    request<T.AuditPage>("GET", `${tenantPath(tenant)}/audit`, { query: { limit, cursor } }),
};

export const pipelines = {
  list: (tenant: string, cursor?: string) =>
    request<T.PipelinePage>("GET", `${tenantPath(tenant)}/pipelines`, { query: { cursor } }),
  get: (tenant: string, pipeline: string) => request<T.PipelineDetail>("GET", pipelinePath(tenant, pipeline)),
  save: (tenant: string, pipeline: string, source: string) =>
    request<T.SavedPipeline>("PUT", pipelinePath(tenant, pipeline), specBody(source)),
  validate: (tenant: string, pipeline: string, source: string, signal?: AbortSignal) =>
    request<T.ValidationResult>("POST", `${pipelinePath(tenant, pipeline)}/validate`, {
      ...specBody(source),
      signal,
    }),
  remove: (tenant: string, pipeline: string) => request<void>("DELETE", pipelinePath(tenant, pipeline)),
  pause: (tenant: string, pipeline: string) =>
    request<T.PauseState>("POST", `${pipelinePath(tenant, pipeline)}/pause`),
  unpause: (tenant: string, pipeline: string) =>
    request<T.PauseState>("POST", `${pipelinePath(tenant, pipeline)}/unpause`),
  versions: (tenant: string, pipeline: string) =>
    request<T.Items<T.PipelineVersion>>("GET", `${pipelinePath(tenant, pipeline)}/versions`),
  version: (tenant: string, pipeline: string, version: number) =>
    request<T.PipelineVersionDetail>("GET", `${pipelinePath(tenant, pipeline)}/versions/${version}`),
};

const runPath = (tenant: string, pipeline: string, run: string) =>
  `${pipelinePath(tenant, pipeline)}/runs/${seg(run)}`;
const taskPath = (tenant: string, pipeline: string, run: string, task: string) =>
  `${runPath(tenant, pipeline, run)}/tasks/${seg(task)}`;

export const runs = {
  list: (
    tenant: string,
    pipeline: string,
    query: { status?: string; cursor?: string; limit?: number } = {},
  ) => request<T.RunPage>("GET", `${pipelinePath(tenant, pipeline)}/runs`, { query }),
  /** Tenant-wide list; answers 404 on a server that does not have it yet. */
  listAll: (tenant: string, query: { status?: string; cursor?: string; limit?: number } = {}) =>
    request<T.TenantRunPage>("GET", `${tenantPath(tenant)}/runs`, { query }),
  start: (tenant: string, pipeline: string, params: Record<string, unknown>) =>
    request<T.CreatedRun>("POST", `${pipelinePath(tenant, pipeline)}/runs`, { json: { params } }),
  get: (tenant: string, pipeline: string, run: string, signal?: AbortSignal) =>
    request<T.RunDetail>("GET", runPath(tenant, pipeline, run), { signal }),
  cancel: (tenant: string, pipeline: string, run: string) =>
    request<T.RunState>("POST", `${runPath(tenant, pipeline, run)}/cancel`),
  retry: (tenant: string, pipeline: string, run: string, task: string, downstream: boolean) =>
    request<T.RunState>("POST", `${taskPath(tenant, pipeline, run, task)}/retry`, { json: { downstream } }),
  mark: (tenant: string, pipeline: string, run: string, task: string, status: "success" | "failed") =>
    request<T.RunState>("POST", `${taskPath(tenant, pipeline, run, task)}/mark`, { json: { status } }),
  logs: (tenant: string, pipeline: string, run: string, task: string) =>
    request<T.Items<T.LogLine>>("GET", `${taskPath(tenant, pipeline, run, task)}/logs`),
  /** The pipeline's live WebSocket URL (same origin, cookie session). */
  liveUrl: (tenant: string, pipeline: string) => {
    const url = new URL(`${pipelinePath(tenant, pipeline)}/live`, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return url.toString();
  },
};

const deliveryPath = (tenant: string, pipeline: string, delivery: string) =>
  `${pipelinePath(tenant, pipeline)}/deliveries/${seg(delivery)}`;

export const deliveries = {
  list: (tenant: string, pipeline: string, query: T.DeliveryQuery = {}) =>
    request<T.DeliveryPage>("GET", `${pipelinePath(tenant, pipeline)}/deliveries`, { query }),
  get: (tenant: string, pipeline: string, delivery: string) =>
    request<T.DeliveryDetail>("GET", deliveryPath(tenant, pipeline, delivery)),
  replay: (tenant: string, pipeline: string, delivery: string, version: T.ReplayVersion) =>
    request<T.ReplayedDelivery>("POST", `${deliveryPath(tenant, pipeline, delivery)}/replay`, {
      json: { version },
    }),
  /** A dry run answers what would run and starts nothing. */
  replayRange: (tenant: string, pipeline: string, body: T.RangeReplay) =>
    request<T.RangeReplayResult>("POST", `${pipelinePath(tenant, pipeline)}/deliveries/replay`, {
      json: body,
    }),
};

const triggerPath = (tenant: string, pipeline: string, trigger: string) =>
  `${pipelinePath(tenant, pipeline)}/triggers/${seg(trigger)}`;

export const triggers = {
  rotateSecret: (tenant: string, pipeline: string, trigger: string) =>
    request<T.RotatedSecret>("POST", `${triggerPath(tenant, pipeline, trigger)}/rotate-secret`),
  /** `body` undefined: the server's own sample. */
  testDelivery: (tenant: string, pipeline: string, trigger: string, body?: unknown) =>
    request<T.TestDeliveryAnswer>("POST", `${triggerPath(tenant, pipeline, trigger)}/test-delivery`, {
      json: body === undefined ? {} : { body },
    }),
};
