// Test-only bindings set in vitest.config.ts (the Worker's own come from worker-configuration.d.ts).
declare namespace Cloudflare {
  interface Env {
    UPDRAFT_JWKS?: string;
    TEST_SIGNING_JWK: string;
    /** The local Slack stand-in's API base URL (http://127.0.0.1:PORT/api). */
    SLACK_API: string;
  }
}
