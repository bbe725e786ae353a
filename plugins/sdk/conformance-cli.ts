#!/usr/bin/env node
/**
 * Checks a plugin at a URL against protocol v1, from plain Node 24 (no build step):
 *
 *   node plugins/sdk/conformance-cli.ts https://plugin.example.com --key signing-key.json
 *
 * The key is the private JWK the plugin trusts (its public half in the plugin's UPDRAFT_JWKS),
 * read from --key <file> or the UPDRAFT_SIGNING_JWK environment variable. Prints one line per check
 * (✓ passed, ✗ failed, - skipped, then what the plugin answered) and exits 1 on any failure. It calls
 * every operator once with a sample input (PROTOCOL.md §7): point it at a test deployment.
 */
import { readFileSync } from "node:fs";
import { runConformance } from "./src/conformance.ts";

const args = process.argv.slice(2);
const keyFlag = args.indexOf("--key");
const keyFile = keyFlag >= 0 ? args[keyFlag + 1] : undefined;
const url = args.find((arg, i) => !arg.startsWith("--") && i !== keyFlag + 1 && arg !== keyFile);
const privateJwk = keyFile ? readFileSync(keyFile, "utf8") : process.env.UPDRAFT_SIGNING_JWK;

if (!url || !privateJwk) {
  console.error("usage: node conformance-cli.ts <plugin base URL> [--key <private JWK file>]");
  console.error("       (or set UPDRAFT_SIGNING_JWK to the private JWK JSON)");
  process.exit(2);
}

const results = await runConformance(url, { privateJwk });
const MARKS = { passed: "✓", failed: "✗", skipped: "-" } as const;
for (const result of results) console.log(`${MARKS[result.status]} ${result.check} — ${result.detail}`);
const count = (status: keyof typeof MARKS) => results.filter((result) => result.status === status).length;
console.log(`${count("passed")} passed, ${count("failed")} failed, ${count("skipped")} skipped`);
process.exitCode = count("failed") > 0 || count("passed") < 2 ? 1 : 0;
