/**
 * A real S3-compatible server for the tests: s3rver (npm registry) on 127.0.0.1 with the bucket
 * `updraft-test` and its fixed keys S3RVER / S3RVER (it checks the key id, not the signature). It runs
 * in a child Node with the legacy OpenSSL provider (s3rver-process.mjs says why) and stops with the tests.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    s3Port: number;
  }
}

export default async function setup(project: TestProject) {
  const child = spawn(
    process.execPath,
    ["--openssl-legacy-provider", new URL("./s3rver-process.mjs", import.meta.url).pathname],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout });
  const [first] = (await Promise.race([
    once(lines, "line"),
    once(child, "exit").then(() => {
      throw new Error("s3rver exited before it listened");
    }),
  ])) as [string];
  const { port } = JSON.parse(first) as { port: number };
  project.provide("s3Port", port);
  return async () => {
    child.kill("SIGTERM");
    await once(child, "exit");
  };
}
