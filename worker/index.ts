import { app } from "./app";
import { sweepExpired } from "./cron/reconcile";

export { PipelineDO } from "./pipeline/object";

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    await sweepExpired(env, new Date(controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
