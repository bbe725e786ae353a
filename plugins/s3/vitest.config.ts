/**
 * Tests run inside workerd against the real `updraft-plugin-s3` Worker, calling a real S3-compatible
 * server (s3rver, from the npm registry) on 127.0.0.1 started by test/s3-server.ts.
 */
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { generateSigningKeyPair } from "@updraft/plugin-sdk";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const trusted = await generateSigningKeyPair("test-key");
  return {
    test: {
      root: import.meta.dirname,
      name: "s3",
      include: ["test/**/*.test.ts"],
      globalSetup: ["./test/s3-server.ts"],
    },
    plugins: [
      cloudflareTest(({ inject }) => ({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            UPDRAFT_JWKS: JSON.stringify(trusted.jwks),
            UPDRAFT_ALLOW_PRIVATE_NETWORK: "true",
            S3_ENDPOINT: `http://127.0.0.1:${inject<number>("s3Port")}`,
            TEST_SIGNING_JWK: JSON.stringify(trusted.privateJwk),
          },
          serviceBindings: { PLATFORM: () => new Response("no platform in tests", { status: 503 }) },
        },
      })),
    ],
  };
});
