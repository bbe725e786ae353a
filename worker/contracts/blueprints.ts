/** Shapes of the blueprint gallery (`GET /api/blueprints`): ready pipelines to start from. */
import { z } from "zod";

export const Blueprint = z.object({
  /** Stable id (the file name), also a good pipeline slug. */
  id: z.string(),
  /** The spec's `name`. */
  title: z.string(),
  /** The spec's `description`. */
  description: z.string(),
  /** The plugins its tasks use (`core`, or connectors to install first), in order of first use. */
  plugins: z.array(z.string()),
  /** Triggers it comes with: `schedule`, `webhook`, or none (started by hand). */
  triggers: z.array(z.enum(["schedule", "webhook"])),
  /** The spec as YAML, ready for the editor or `PUT …/pipelines/{p}`. */
  source: z.string(),
});
export type Blueprint = z.infer<typeof Blueprint>;

export const BlueprintList = z.object({ items: z.array(Blueprint) });
