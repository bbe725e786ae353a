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
import failureAlert from "./failure-alert.yaml";
import fanOut from "./fan-out.yaml";
import forwardWebhook from "./forward-webhook.yaml";
import githubPushToChat from "./github-push-to-chat.yaml";
import processBucket from "./process-bucket.yaml";
import waitThenNotify from "./wait-then-notify.yaml";

const SOURCES: Record<string, string> = {
  "github-push-to-chat": githubPushToChat,
  "forward-webhook": forwardWebhook,
  "daily-etl": dailyEtl,
  "wait-then-notify": waitThenNotify,
  "fan-out": fanOut,
  "failure-alert": failureAlert,
  "archive-to-s3": archiveToS3,
  "process-bucket": processBucket,
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
