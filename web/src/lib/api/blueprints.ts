/** The blueprint gallery, typed by the Worker's blueprint contracts (types only: no schema code ships). */
import type { z } from "zod";
import type * as C from "$contracts/blueprints";
import { request } from "./client";

export type Blueprint = z.infer<typeof C.Blueprint>;
export type BlueprintList = z.infer<typeof C.BlueprintList>;
export type BlueprintTrigger = Blueprint["triggers"][number];

export const blueprints = {
  /** Ready pipelines to start from, in gallery order; any signed-in user may list them. */
  list: () => request<BlueprintList>("GET", "/api/blueprints"),
};
