/**
 * The `updraft-plugin-email` Worker: sends email through an HTTP email API (Resend, Postmark or
 * SendGrid, chosen by the connection), over HTTP and, for the platform's service binding, in batches.
 */
import { toWorkerEntrypoint } from "@updraft/plugin-sdk/entrypoint";
import { email } from "./plugin.ts";

export default toWorkerEntrypoint<Env>(email);
