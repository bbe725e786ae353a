/** Who is signed in and which tenants they belong to, loaded once from GET /api/me. */

import type { Role, TenantRef, User } from "$lib/api";
import { ApiError, auth, errorMessage, onUnauthorized } from "$lib/api";

class Session {
  user = $state<User | null>(null);
  tenants = $state<TenantRef[]>([]);
  status = $state<"loading" | "ready" | "error">("loading");
  error = $state<string | null>(null);
  #loading: Promise<void> | null = null;

  /** Resolves once the session is known; repeated calls share the first request. */
  ready(): Promise<void> {
    this.#loading ??= this.refresh();
    return this.#loading;
  }

  async refresh(): Promise<void> {
    try {
      const me = await auth.me();
      this.user = me.user;
      this.tenants = me.tenants;
      this.error = null;
      this.status = "ready";
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        this.clear();
        this.status = "ready";
        return;
      }
      this.error = errorMessage(error);
      this.status = "error";
    }
  }

  roleIn(tenant: string | undefined): Role | undefined {
    return this.tenants.find((t) => t.slug === tenant)?.role;
  }

  async signIn(email: string, password: string): Promise<void> {
    await auth.signIn({ email, password });
    await this.refresh();
  }

  async signUp(name: string, email: string, password: string): Promise<void> {
    await auth.signUp({ name, email, password });
    await this.refresh();
  }

  async signOut(): Promise<void> {
    try {
      await auth.signOut();
    } finally {
      this.clear();
    }
  }

  clear(): void {
    this.user = null;
    this.tenants = [];
  }
}

export const session = new Session();
onUnauthorized(() => session.clear());
