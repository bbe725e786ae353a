/** Tests inside workerd against the real `updraft-plugin-postgres` Worker and PGlite over the wire protocol (test/pg-server.ts). */
import { connectorTests } from "../connector-vitest.ts";

export default connectorTests({
  root: import.meta.dirname,
  name: "postgres",
  globalSetup: "./test/pg-server.ts",
  portKey: "pgPort",
  bindings: (port) => ({ PG_PORT: String(port) }),
});
