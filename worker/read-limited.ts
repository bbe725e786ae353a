/**
 * Reads a body as a stream up to `limit` bytes, whatever Content-Length says: a longer one is cut off
 * (its stream cancelled) and flagged, never held whole. Webhook deliveries (hooks/ingress.ts) and
 * plugin manifests (marketplace/manifest-reader.ts) both come from parties that may lie or flood.
 */
export async function readLimited(
  message: Request | Response,
  limit: number,
): Promise<{ body: Uint8Array; tooLarge: boolean }> {
  const declared = Number(message.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) {
    await message.body?.cancel();
    return { body: new Uint8Array(0), tooLarge: true };
  }
  if (!message.body) return { body: new Uint8Array(0), tooLarge: false };
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > limit) {
      await reader.cancel();
      return { body: new Uint8Array(0), tooLarge: true };
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return { body, tooLarge: false };
}
