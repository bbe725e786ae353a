/**
 * The `updraft-plugin-postgres` Worker: parameterised queries and transactions on PostgreSQL over TCP
 * (`cloudflare:sockets`, through the `postgres` driver's Workers build), over HTTP and, for the
 * platform's service binding, in batches over Workers RPC.
 */
import { toWorkerEntrypoint } from "@updraft/plugin-sdk/entrypoint";
import { postgresPlugin } from "./plugin.ts";

export default toWorkerEntrypoint<Env>(postgresPlugin);
