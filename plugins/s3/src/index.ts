/**
 * The `updraft-plugin-s3` Worker: objects in any S3-compatible storage (AWS S3, R2, MinIO…), over
 * HTTP and, for the platform's service binding, in batches over Workers RPC.
 */
import { toWorkerEntrypoint } from "@updraft/plugin-sdk/entrypoint";
import { s3 } from "./plugin.ts";

export default toWorkerEntrypoint<Env>(s3);
