import { app } from "./app";
import { onCron } from "./cron/reconcile";

export { Dispatcher } from "./dispatcher";
export { PipelineDO } from "./pipeline/object";
export { TenantDO } from "./tenant/object";

export default {
  fetch: app.fetch,
  async scheduled(controller, env) {
    await onCron(env, new Date(controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
