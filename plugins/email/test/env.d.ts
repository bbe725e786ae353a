// Test-only bindings set in vitest.config.ts (the Worker's own come from worker-configuration.d.ts).
declare namespace Cloudflare {
  interface Env {
    UPDRAFT_JWKS?: string;
    TEST_SIGNING_JWK: string;
    /** The local stand-ins' origin: /resend, /postmark and /sendgrid below it. */
    MAIL_ORIGIN: string;
  }
}
