import { randomFillSync } from "node:crypto";

/**
 * A PRNG for ulid (a number in [0, 1) with 8 random bits, as ulid's own): bytes from the OS CSPRNG, drawn
 * 4 KiB at a time. ulid's default asks webcrypto for one byte per character (16 calls per id), ~1% of a
 * cell's CPU per operation.
 */
export function bufferedRandom(poolBytes = 4096): () => number {
  const pool = new Uint8Array(poolBytes);
  let next = poolBytes;
  return () => {
    if (next === poolBytes) {
      randomFillSync(pool);
      next = 0;
    }
    return (pool[next++] as number) / 256;
  };
}
