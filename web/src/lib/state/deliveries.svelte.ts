/**
 * A pipeline's deliveries, newest first, under a filter: the first page, "Load more" pages after it, and
 * live deliveries merged in at the top. Unlike Paged, refreshing the first page keeps the pages loaded
 * after it, so a delivery arriving does not throw away what the reader scrolled to.
 */
import type { DeliveryPage, DeliverySummary } from "$lib/api";
import { deliveries, errorMessage } from "$lib/api";
import { type DeliveryFilter, matches } from "$lib/deliveries";

type Target = { tenant: string; pipeline: string; filter: DeliveryFilter };

export class DeliveryFeed {
  items = $state<DeliverySummary[]>([]);
  cursor = $state<string | null>(null);
  loading = $state(true);
  error = $state<string | null>(null);
  loadingMore = $state(false);
  moreError = $state<string | null>(null);
  #target: () => Target;
  #request = 0;

  /** Create it during component setup: it loads again whenever the target (or its filter) changes. */
  constructor(target: () => Target) {
    this.#target = target;
    // The target is rebuilt whenever the URL changes (selecting a delivery too): load only when it differs.
    let loaded = "";
    $effect(() => {
      const current = target();
      const key = JSON.stringify(current);
      if (key === loaded) return;
      loaded = key;
      void this.#first(current);
    });
  }

  #fetch({ tenant, pipeline, filter }: Target, cursor?: string): Promise<DeliveryPage> {
    return deliveries.list(tenant, pipeline, { ...filter, cursor });
  }

  async #first(target: Target): Promise<void> {
    const request = ++this.#request;
    this.loading = true;
    try {
      const page = await this.#fetch(target);
      if (request !== this.#request) return;
      this.items = page.items;
      this.cursor = page.next_cursor;
      this.error = null;
      this.moreError = null;
    } catch (error) {
      if (request !== this.#request) return;
      this.error = errorMessage(error);
    } finally {
      if (request === this.#request) this.loading = false;
    }
  }

  /** Reads the first page again and merges it in (when the socket opens, and while polling). */
  async refresh(): Promise<void> {
    const request = this.#request;
    try {
      const page = await this.#fetch(this.#target());
      if (request !== this.#request) return;
      for (const delivery of [...page.items].reverse()) this.#put(delivery);
      // A list that had everything may now have more than a page: what is below the page comes next.
      if (!this.cursor && page.next_cursor) this.cursor = page.next_cursor;
      this.error = null;
    } catch {
      // the next refresh or live event catches up; the list on screen stays as it is
    }
  }

  /** A delivery the live socket announced: shown at its place when it passes the filter. */
  add(delivery: DeliverySummary): void {
    if (matches(delivery, this.#target().filter)) this.#put(delivery);
  }

  #put(delivery: DeliverySummary): void {
    const at = this.items.findIndex((d) => d.id === delivery.id);
    if (at >= 0) {
      this.items[at] = delivery;
      return;
    }
    const time = Date.parse(delivery.received_at);
    const before = this.items.findIndex((d) => Date.parse(d.received_at) <= time);
    if (before < 0) {
      // Older than everything shown: it belongs to a page not loaded yet, unless there is none.
      if (!this.cursor) this.items.push(delivery);
      return;
    }
    this.items.splice(before, 0, delivery);
  }

  async loadMore(): Promise<void> {
    if (!this.cursor || this.loadingMore) return;
    const request = this.#request;
    this.loadingMore = true;
    this.moreError = null;
    try {
      const page = await this.#fetch(this.#target(), this.cursor);
      if (request !== this.#request) return;
      const known = new Set(this.items.map((d) => d.id));
      this.items.push(...page.items.filter((d) => !known.has(d.id)));
      this.cursor = page.next_cursor;
    } catch (error) {
      this.moreError = errorMessage(error);
    } finally {
      this.loadingMore = false;
    }
  }
}
