/**
 * The test setup every connector plugin shares: its Worker (from its wrangler.toml) inside workerd,
 * trusting a fresh signing key, with the private-network switch on so it can reach the local server its
 * `globalSetup` starts (a real one from the registry, or a stand-in speaking the service's wire format).
 * The platform is not part of these tests: keys come inline.
 */
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { generateSigningKeyPair } from "@updraft/plugin-sdk";
import { defineConfig } from "vitest/config";

export interface ConnectorTests {
  /** The plugin's folder (its vitest.config.ts's `import.meta.dirname`). */
  root: string;
  name: string;
  /** Starts the local server; provides its port under `portKey`. */
  globalSetup: string;
  portKey: string;
  /** The test-only bindings that tell the tests where the server is, from its port. */
  bindings: (port: number) => Record<string, string>;
}

export function connectorTests(options: ConnectorTests) {
  return defineConfig(async () => {
    const trusted = await generateSigningKeyPair("test-key");
    return {
      test: {
        root: options.root,
        name: options.name,
        include: ["test/**/*.test.ts"],
        globalSetup: [options.globalSetup],
      },
      plugins: [
        cloudflareTest(({ inject }) => ({
          wrangler: { configPath: "./wrangler.toml" },
          miniflare: {
            bindings: {
              UPDRAFT_JWKS: JSON.stringify(trusted.jwks),
              UPDRAFT_ALLOW_PRIVATE_NETWORK: "true",
              TEST_SIGNING_JWK: JSON.stringify(trusted.privateJwk),
              ...options.bindings(inject(options.portKey as never) as number),
            },
            serviceBindings: { PLATFORM: () => new Response("no platform in tests", { status: 503 }) },
          },
        })),
      ],
    };
  });
}
