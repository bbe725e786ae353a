// Test-only bindings set in vitest.config.ts (the Worker's own come from worker-configuration.d.ts).
declare namespace Cloudflare {
  interface Env {
    UPDRAFT_JWKS?: string;
    TEST_SIGNING_JWK: string;
    /** The local PGlite server's port. */
    PG_PORT: string;
  }
}
