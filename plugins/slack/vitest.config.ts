/** Tests inside workerd against the real `updraft-plugin-slack` Worker and a Web API stand-in (test/slack-server.ts). */
import { connectorTests } from "../connector-vitest.ts";

export default connectorTests({
  root: import.meta.dirname,
  name: "slack",
  globalSetup: "./test/slack-server.ts",
  portKey: "slackPort",
  bindings: (port) => ({ SLACK_API: `http://127.0.0.1:${port}/api` }),
});
