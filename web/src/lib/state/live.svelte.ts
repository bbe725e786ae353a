/**
 * Live updates for a pipeline's runs: the pipeline's WebSocket when the server has it, else (and whenever
 * the socket is down) a poll every 2 s. Create it during component setup; it stops with the component.
 */
import type { LiveEvent } from "$lib/api";
import { runs } from "$lib/api";

const POLL_MS = 2000;
const RECONNECT_MS = 5000;
/** After a few handshakes that never opened (a server without the route), ask rarely. */
const GIVE_UP_AFTER = 3;
const RECONNECT_SLOW_MS = 60_000;
/** Close codes of a socket whose access ended (worker/pipeline/watchers.ts). */
const ACCESS_ENDED = 4401;
const ACCESS_DENIED = 4403;

export type LiveMode = "connecting" | "live" | "polling";

export class PipelineLive {
  mode = $state<LiveMode>("connecting");
  #socket: WebSocket | null = null;
  #poll: ReturnType<typeof setInterval> | null = null;
  #retry: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  #failures = 0;

  /**
   * @param target the tenant and pipeline, read reactively: a new pipeline reconnects
   * @param onEvent each live event (only while the socket is open)
   * @param refresh reload what the page shows (every 2 s while polling, and once when the socket opens)
   */
  constructor(
    target: () => { tenant: string; pipeline: string; active: boolean },
    onEvent: (event: LiveEvent) => void,
    refresh: () => void,
  ) {
    $effect(() => {
      const { tenant, pipeline, active } = target();
      this.#stopped = false;
      if (active) this.#start(runs.liveUrl(tenant, pipeline), onEvent, refresh);
      return () => this.#stop();
    });
  }

  #start(url: string, onEvent: (event: LiveEvent) => void, refresh: () => void): void {
    this.#polling(refresh);
    this.#connect(url, onEvent, refresh);
  }

  #polling(refresh: () => void): void {
    this.mode = "polling";
    this.#poll ??= setInterval(refresh, POLL_MS);
  }

  #connect(url: string, onEvent: (event: LiveEvent) => void, refresh: () => void): void {
    if (this.#stopped) return;
    const socket = new WebSocket(url);
    let opened = false;
    this.#socket = socket;
    socket.onopen = () => {
      opened = true;
      this.#failures = 0;
      if (this.#poll) clearInterval(this.#poll);
      this.#poll = null;
      this.mode = "live";
      refresh();
    };
    socket.onmessage = (message) => {
      try {
        onEvent(JSON.parse(String(message.data)) as LiveEvent);
      } catch {
        // not an event we understand: the next refresh catches up
      }
    };
    socket.onclose = (event) => {
      if (this.#socket !== socket || this.#stopped) return;
      this.#socket = null;
      this.#polling(refresh);
      if (!opened) this.#failures += 1;
      // Access ended (signed out, removed, token revoked): the page's own requests say so, and the
      // socket is asked for again only rarely, not every few seconds.
      const ended = event.code === ACCESS_ENDED || event.code === ACCESS_DENIED;
      const wait = ended || this.#failures >= GIVE_UP_AFTER ? RECONNECT_SLOW_MS : RECONNECT_MS;
      this.#retry = setTimeout(() => this.#connect(url, onEvent, refresh), wait);
    };
  }

  #stop(): void {
    this.#stopped = true;
    if (this.#poll) clearInterval(this.#poll);
    if (this.#retry) clearTimeout(this.#retry);
    this.#poll = null;
    this.#retry = null;
    const socket = this.#socket;
    this.#socket = null;
    socket?.close();
  }
}
