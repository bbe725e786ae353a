import type { Principal } from "./auth/principal";

/** Hono environment shared by every route and middleware. */
export type AppEnv = {
  Bindings: Env;
  Variables: {
    /** Null for anonymous requests; routes that need identity call `authorize` or `requireUser`. */
    principal: Principal | null;
  };
};
