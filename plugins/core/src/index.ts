/**
 * The `updraft-plugin-core` Worker: the built-in operators every tenant gets, over HTTP and, for the
 * platform's service binding, in batches over Workers RPC.
 */
import { toWorkerEntrypoint } from "@updraft/plugin-sdk/entrypoint";
import { core } from "./plugin.ts";

export default toWorkerEntrypoint<Env>(core);
