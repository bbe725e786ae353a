/**
 * The `updraft-plugin-github` Worker: issues, comments, workflow dispatches and files through GitHub's
 * REST API, over HTTP and, for the platform's service binding, in batches over Workers RPC.
 */
import { toWorkerEntrypoint } from "@updraft/plugin-sdk/entrypoint";
import { github } from "./plugin.ts";

export default toWorkerEntrypoint<Env>(github);
