/** Request bodies are at most 16 KiB (docs/conventions.md); router and cells enforce it the same way. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Reads a request body, stopping as soon as it exceeds `limit` bytes (a missing or
 * lying Content-Length cannot make us buffer more). Undefined when too large.
 */
export async function readBodyLimited(request: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array | undefined> {
  if (!request.body) return new Uint8Array();
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
