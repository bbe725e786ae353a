/**
 * Data a page reads from the API. Create it during component setup: it loads at once and again whenever a
 * reactive value the loader reads before its first `await` (a route param) changes; answers to superseded
 * requests are dropped.
 */
import { errorMessage } from "$lib/api";

export class Resource<T> {
  value = $state<T | undefined>();
  error = $state<string | null>(null);
  loading = $state(true);
  #load: () => Promise<T>;
  #request = 0;

  constructor(load: () => Promise<T>) {
    this.#load = load;
    $effect(() => {
      void this.reload();
    });
  }

  /** Loads again; `quiet` keeps the current value on screen instead of showing the loading state. */
  async reload(quiet = false): Promise<void> {
    const request = ++this.#request;
    if (!quiet) this.loading = true;
    const pending = this.#load();
    try {
      const value = await pending;
      if (request !== this.#request) return;
      this.value = value;
      this.error = null;
    } catch (error) {
      if (request !== this.#request) return;
      this.error = errorMessage(error);
    } finally {
      if (request === this.#request) this.loading = false;
    }
  }
}
