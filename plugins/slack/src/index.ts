/**
 * The `updraft-plugin-slack` Worker: messages in Slack through its Web API with a bot token, over HTTP
 * and, for the platform's service binding, in batches over Workers RPC.
 */
import { toWorkerEntrypoint } from "@updraft/plugin-sdk/entrypoint";
import { slack } from "./plugin.ts";

export default toWorkerEntrypoint<Env>(slack);
