/** Tests inside workerd against the real `updraft-plugin-github` Worker and a REST stand-in (test/github-server.ts). */
import { connectorTests } from "../connector-vitest.ts";

export default connectorTests({
  root: import.meta.dirname,
  name: "github",
  globalSetup: "./test/github-server.ts",
  portKey: "githubPort",
  bindings: (port) => ({ GITHUB_API: `http://127.0.0.1:${port}` }),
});
