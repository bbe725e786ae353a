/** A cursor-paged list (`{items, next_cursor}`): the first page as a Resource, then "Load more". */
import { errorMessage } from "$lib/api";
import { Resource } from "./resource.svelte";

type Page<T> = { items: T[]; next_cursor: string | null };

export class Paged<T> {
  readonly first: Resource<Page<T>>;
  more = $state<T[]>([]);
  cursor = $state<string | null>(null);
  loadingMore = $state(false);
  moreError = $state<string | null>(null);
  #load: (cursor?: string) => Promise<Page<T>>;

  /** Like Resource, create it during component setup; `load` is called without a cursor for page one. */
  constructor(load: (cursor?: string) => Promise<Page<T>>) {
    this.#load = load;
    this.first = new Resource(() => load());
    // A fresh first page (reload, another tenant) drops the pages loaded after it.
    $effect(() => {
      this.cursor = this.first.value?.next_cursor ?? null;
      this.more = [];
    });
  }

  get items(): T[] {
    return [...(this.first.value?.items ?? []), ...this.more];
  }

  async loadMore(): Promise<void> {
    if (!this.cursor || this.loadingMore) return;
    this.loadingMore = true;
    this.moreError = null;
    try {
      const next = await this.#load(this.cursor);
      this.more = [...this.more, ...next.items];
      this.cursor = next.next_cursor;
    } catch (error) {
      this.moreError = errorMessage(error);
    } finally {
      this.loadingMore = false;
    }
  }
}
