#!/usr/bin/env node
/**
 * Checks a plugin at a URL against protocol v1, from plain Node 24 (no build step):
 *
 *   node plugins/sdk/conformance-cli.ts https://plugin.example.com --key signing-key.json
 *
 * The key is the private JWK the plugin trusts (its public half in the plugin's UPDRAFT_JWKS),
 * read from --key <file> or the UPDRAFT_SIGNING_JWK environment variable. Exits 1 on any failure.
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
for (const result of results) console.log(`${result.ok ? "✓" : "✗"} ${result.check} — ${result.detail}`);
const failed = results.filter((result) => !result.ok).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exitCode = failed > 0 || results.length < 2 ? 1 : 0;
