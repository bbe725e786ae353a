/**
 * The `updraft-plugin-core` Worker: the built-in operators every tenant gets, over HTTP and, for the
 * platform's service binding, in batches over Workers RPC.
 */
import { toWorkerEntrypoint } from "../../sdk/src/entrypoint.ts";
import { core } from "./plugin.ts";

export default toWorkerEntrypoint<Env>(core);
