/** Tests inside workerd against the real `updraft-plugin-s3` Worker and s3rver (test/s3-server.ts). */
import { connectorTests } from "../connector-vitest.ts";

export default connectorTests({
  root: import.meta.dirname,
  name: "s3",
  globalSetup: "./test/s3-server.ts",
  portKey: "s3Port",
  bindings: (port) => ({ S3_ENDPOINT: `http://127.0.0.1:${port}` }),
});
