// Test-only bindings set in vitest.config.ts (the Worker's own come from worker-configuration.d.ts).
declare namespace Cloudflare {
  interface Env {
    UPDRAFT_JWKS?: string;
    TEST_SIGNING_JWK: string;
    TEST_STRANGER_JWK: string;
    TARGET_ORIGIN: string;
    /** The same fake target on another port: another origin, for cross-origin redirects. */
    OTHER_TARGET_ORIGIN: string;
  }
}
