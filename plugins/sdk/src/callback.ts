/** Delivering a running operator's final result to the platform's `callback_url`. */
import type { ResultBody } from "./outcome.ts";
import { INVOCATION_ID_HEADER } from "./protocol/index.ts";

export type FetchLike = (input: Request) => Promise<Response>;

const ATTEMPTS = 4;
const BACKOFF_MS = [0, 500, 2_000, 5_000];

/**
 * POSTs the result, retrying network errors and 5xx a few times: losing a callback would leave the
 * task running until its timeout. The URL is a capability minted by the platform, so no signature.
 */
export async function deliverCallback(
  fetcher: FetchLike,
  url: string,
  invocationId: string,
  body: ResultBody,
): Promise<void> {
  let lastError = "";
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const wait = BACKOFF_MS[attempt] ?? 0;
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    try {
      const response = await fetcher(
        new Request(url, {
          method: "POST",
          headers: { "content-type": "application/json", [INVOCATION_ID_HEADER]: invocationId },
          body: JSON.stringify(body),
        }),
      );
      // Drain the body so the connection can be reused (and Workers does not warn about it).
      await response.arrayBuffer();
      if (response.status < 500) return;
      lastError = `callback answered ${response.status}`;
    } catch (thrown) {
      lastError = thrown instanceof Error ? thrown.message : String(thrown);
    }
  }
  console.error(`updraft plugin: callback for invocation ${invocationId} failed: ${lastError}`);
}
