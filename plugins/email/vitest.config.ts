/** Tests inside workerd against the real `updraft-plugin-email` Worker and provider stand-ins (test/providers-server.ts). */
import { connectorTests } from "../connector-vitest.ts";

export default connectorTests({
  root: import.meta.dirname,
  name: "email",
  globalSetup: "./test/providers-server.ts",
  portKey: "mailPort",
  bindings: (port) => ({ MAIL_ORIGIN: `http://127.0.0.1:${port}` }),
});
