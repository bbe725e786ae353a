/**
 * Tests run inside workerd against the real `updraft-plugin-core` Worker, in two projects:
 * - `core`: the private-network switch on (so `http` can reach the local fake target) and keys inline.
 * - `core-locked`: the production defaults from wrangler.toml (switch off) with keys served by a
 *   stand-in `PLATFORM` service binding, so both key sources are exercised end to end.
 */
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { generateSigningKeyPair } from "@updraft/plugin-sdk";
import { defineConfig } from "vitest/config";

const root = import.meta.dirname;
const globalSetup = ["./test/target-server.ts"];

export default defineConfig(async () => {
  const trusted = await generateSigningKeyPair("test-key");
  const stranger = await generateSigningKeyPair("stranger-key");
  const signing = {
    TEST_SIGNING_JWK: JSON.stringify(trusted.privateJwk),
    TEST_STRANGER_JWK: JSON.stringify(stranger.privateJwk),
  };
  return {
    test: {
      projects: [
        {
          root,
          plugins: [
            cloudflareTest(({ inject }) => ({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  UPDRAFT_JWKS: JSON.stringify(trusted.jwks),
                  UPDRAFT_ALLOW_PRIVATE_NETWORK: "true",
                  TARGET_ORIGIN: `http://127.0.0.1:${inject<number>("targetPort")}`,
                  OTHER_TARGET_ORIGIN: `http://127.0.0.1:${inject<number>("otherTargetPort")}`,
                  ...signing,
                },
                // The platform Worker is not part of these tests; keys come inline instead.
                serviceBindings: { PLATFORM: () => new Response("no platform in tests", { status: 503 }) },
              },
            })),
          ],
          test: { name: "core", include: ["test/**/*.test.ts"], exclude: ["test/locked/**"], globalSetup },
        },
        {
          root,
          plugins: [
            cloudflareTest(({ inject }) => ({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  // The production value, even when `npm start` has left a .dev.vars that turns it on.
                  UPDRAFT_ALLOW_PRIVATE_NETWORK: "false",
                  TARGET_ORIGIN: `http://127.0.0.1:${inject<number>("targetPort")}`,
                  OTHER_TARGET_ORIGIN: `http://127.0.0.1:${inject<number>("otherTargetPort")}`,
                  ...signing,
                },
                serviceBindings: {
                  PLATFORM: (request: Request) =>
                    new URL(request.url).pathname === "/.well-known/jwks.json"
                      ? Response.json(trusted.jwks)
                      : new Response("not found", { status: 404 }),
                },
              },
            })),
          ],
          test: { name: "core-locked", include: ["test/locked/**/*.test.ts"], globalSetup },
        },
      ],
    },
  };
});
