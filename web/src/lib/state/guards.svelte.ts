import { goto } from "$app/navigation";
import { resolve } from "$app/paths";
import { page } from "$app/state";
import { session } from "./session.svelte";

/** Sends a signed-out visitor to the sign-in page, remembering where to come back to. Call during setup. */
export function requireSignIn(): void {
  $effect(() => {
    if (session.status !== "ready" || session.user) return;
    const next = encodeURIComponent(page.url.pathname + page.url.search);
    void goto(resolve(`/sign-in?next=${next}`), { replace: true });
  });
}
