// `npm start`: build the dashboard, then run everything (see dev-server.mjs). PORT is honoured, and so
// are QUOTA_* (e.g. `QUOTA_DELIVERIES_PER_MINUTE=5000 npm start`): positive integers, checked first.
import { execFileSync } from "node:child_process";
import { quotaVarsFromEnv } from "./dev-vars.mjs";

// Before the dashboard build: a bad quota should not cost a build to find out.
const { errors } = quotaVarsFromEnv(process.env);
if (errors.length > 0) {
  for (const error of errors) console.error(error);
  console.error("npm start: fix or unset the QUOTA_* variables above.");
  process.exit(2);
}

execFileSync("node", ["scripts/build-web.mjs"], { stdio: "inherit" });
await import("./dev-server.mjs");
