/**
 * The blueprint gallery: ready pipelines (YAML in this folder, bundled as text) that the dashboard's
 * "New pipeline" page offers to start from. Each is a complete spec; its title, description, plugins
 * and triggers are read from the spec itself, so a blueprint is one file and nothing else.
 */
import { parse } from "yaml";
import type { Blueprint } from "../contracts/blueprints";
import { PipelineSpecSchema, parseUses } from "../engine";
import archiveToS3 from "./archive-to-s3.yaml";
import dailyEtl from "./daily-etl.yaml";
import exportThenEmail from "./export-then-email.yaml";
import failureAlert from "./failure-alert.yaml";
import failureToGithubIssue from "./failure-to-github-issue.yaml";
import fanOut from "./fan-out.yaml";
import forwardWebhook from "./forward-webhook.yaml";
import githubPushToChat from "./github-push-to-chat.yaml";
import jobStatusInSlack from "./job-status-in-slack.yaml";
import postgresToS3Csv from "./postgres-to-s3-csv.yaml";
import processBucket from "./process-bucket.yaml";
import stripeToPostgres from "./stripe-to-postgres.yaml";
import waitThenNotify from "./wait-then-notify.yaml";

const SOURCES: Record<string, string> = {
  "github-push-to-chat": githubPushToChat,
  "forward-webhook": forwardWebhook,
  "stripe-to-postgres": stripeToPostgres,
  "daily-etl": dailyEtl,
  "wait-then-notify": waitThenNotify,
  "export-then-email": exportThenEmail,
  "fan-out": fanOut,
  "failure-alert": failureAlert,
  "job-status-in-slack": jobStatusInSlack,
  "failure-to-github-issue": failureToGithubIssue,
  "archive-to-s3": archiveToS3,
  "process-bucket": processBucket,
  "postgres-to-s3-csv": postgresToS3Csv,
};

let gallery: Blueprint[] | undefined;

/** Every blueprint, in gallery order; a blueprint that is not a valid spec is a bug (tests read all). */
export function blueprints(): Blueprint[] {
  gallery ??= Object.entries(SOURCES).map(([id, source]) => describe(id, source));
  return gallery;
}

function describe(id: string, source: string): Blueprint {
  const spec = PipelineSpecSchema.parse(parse(source));
  const plugins = [...new Set(spec.tasks.flatMap((task) => parseUses(task.uses)?.plugin ?? []))];
  const triggers: Blueprint["triggers"] = [
    ...(spec.schedule ? (["schedule"] as const) : []),
    ...((spec.triggers ?? []).length > 0 ? (["webhook"] as const) : []),
  ];
  return { id, title: spec.name, description: spec.description ?? "", plugins, triggers, source };
}
