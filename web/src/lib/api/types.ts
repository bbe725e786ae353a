/**
 * The dashboard's view of the API shapes: inferred from the Worker's zod contracts, imported as types only,
 * so no schema code ships to the browser.
 */
import type { z } from "zod";
import type * as C from "$contracts/api";

export type Role = C.Role;
export type GrantableRole = z.infer<typeof C.GrantableRole>;
export type Problem = C.Problem;
export type User = C.User;
export type Me = C.MeResponse;
export type TenantRef = z.infer<typeof C.TenantRef>;
export type TenantSummary = z.infer<typeof C.TenantSummary>;
export type TenantDetail = C.TenantDetail;
export type Member = C.Member;
export type Invitation = C.Invitation;
export type CreatedInvitation = z.infer<typeof C.CreatedInvitation>;
export type InvitationPreview = z.infer<typeof C.InvitationPreview>;
export type AcceptedInvitation = z.infer<typeof C.AcceptedInvitation>;
export type Token = C.Token;
export type CreatedToken = z.infer<typeof C.CreatedToken>;
export type SecretEntry = z.infer<typeof C.SecretEntry>;
export type AuditEntry = C.AuditEntry;
export type AuditPage = z.infer<typeof C.AuditPage>;
export type SpecError = C.SpecErrorItem;
export type Trigger = C.TriggerView;
export type SavedPipeline = z.infer<typeof C.SavedPipeline>;
export type ValidationResult = z.infer<typeof C.ValidationResult>;
export type PipelineSummary = C.PipelineSummary;
export type PipelinePage = z.infer<typeof C.PipelinePage>;
export type PipelineDetail = C.PipelineDetail;
export type PipelineVersion = z.infer<typeof C.PipelineVersion>;
export type PipelineVersionDetail = z.infer<typeof C.PipelineVersionDetail>;
export type PauseState = z.infer<typeof C.PauseState>;
export type Items<T> = { items: T[] };
export type RunStatus = z.infer<typeof C.RunStatus>;
export type TaskStatus = z.infer<typeof C.TaskStatus>;
export type RunSummary = C.RunSummary;
export type RunPage = z.infer<typeof C.RunPage>;
export type RunDetail = C.RunDetail;
export type TaskInstance = z.infer<typeof C.TaskInstanceView>;
export type TaskError = z.infer<typeof C.TaskError>;
export type TaskErrorKind = z.infer<typeof C.TaskErrorKind>;
export type RunState = z.infer<typeof C.RunState>;
export type CreatedRun = z.infer<typeof C.CreatedRun>;
export type LogLine = z.infer<typeof C.TaskLogs>["items"][number];
/** A run in the tenant-wide list: the pipeline's run item plus the pipeline's slug. */
export type TenantRunSummary = RunSummary & { pipeline: string };
export type TenantRunPage = { items: TenantRunSummary[]; next_cursor: string | null };
/** What the pipeline's live WebSocket sends (worker/engine/run/events.ts LiveEvent); `at` is epoch ms. */
export type LiveEvent =
  | { type: "run"; run: string; status: RunStatus; at: number }
  | {
      type: "task";
      run: string;
      key: string;
      task: string;
      map_index: number;
      status: TaskStatus;
      attempt: number;
      at: number;
    }
  | { type: "task_removed"; run: string; key: string; at: number }
  | { type: "delivery"; delivery: DeliverySummary };

export type Verdict = z.infer<typeof C.DeliveryVerdict>;
/** Verdicts of deliveries that were verified: a range replay takes only these. */
export type ReplayableVerdict = z.infer<typeof C.ReplayableVerdict>;
export type DeliverySummary = z.infer<typeof C.DeliverySummary>;
export type DeliveryDetail = z.infer<typeof C.DeliveryDetail>;
export type DeliveryPage = z.infer<typeof C.DeliveryPage>;
export type DeliveryQuery = {
  verdict?: Verdict;
  from?: string;
  to?: string;
  cursor?: string;
  limit?: number;
};
export type ReplayVersion = z.infer<typeof C.ReplayVersion>;
export type ReplayedDelivery = z.infer<typeof C.ReplayedOne>;
export type RangeReplay = z.input<typeof C.ReplayRangeBody>;
export type RangeReplayResult = z.infer<typeof C.ReplayRangeResult>;
export type RotatedSecret = z.infer<typeof C.RotatedSecret>;
/** The answer the webhook gave to the signed sample. */
export type TestDeliveryAnswer = z.infer<typeof C.TestDeliveryResult>;
