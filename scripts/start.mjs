// `npm start`: build the dashboard, then run everything (see dev-server.mjs). PORT is honoured.
import { execFileSync } from "node:child_process";

execFileSync("node", ["scripts/build-web.mjs"], { stdio: "inherit" });
await import("./dev-server.mjs");
