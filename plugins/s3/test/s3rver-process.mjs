// Runs s3rver for the tests in a Node of its own: s3rver 3.7 makes continuation tokens with DES, which
// OpenSSL 3 offers only with --openssl-legacy-provider (test/s3-server.ts starts this with it).
// Prints {"port": N} once listening; stops on SIGTERM.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";

const directory = mkdtempSync(join(tmpdir(), "updraft-s3rver-"));
const server = new S3rver({
  port: 0,
  address: "127.0.0.1",
  silent: true,
  directory,
  configureBuckets: [{ name: "updraft-test" }],
});
const { port } = await server.run();
console.log(JSON.stringify({ port }));
process.on("SIGTERM", async () => {
  await server.close();
  rmSync(directory, { recursive: true, force: true });
  process.exit(0);
});
