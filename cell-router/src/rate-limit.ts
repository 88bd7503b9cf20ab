/**
 * Per-principal token buckets: `ratePerSecond` tokens a second, at most `burst`
 * saved up. Memory is bounded: a bucket that has refilled completely carries
 * no information and is dropped, and past `maxKeys` the least recently used
 * buckets go first (a forgotten principal starts with a full bucket again).
 */
export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export interface RateLimiterOptions {
  /** 0 turns the limit off. */
  ratePerSecond: number;
  burst: number;
  maxKeys?: number;
  now?: () => number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;
  private readonly now: () => number;
  private sweptAt = 0;

  constructor(private readonly options: RateLimiterOptions) {
    this.maxKeys = options.maxKeys ?? 100_000;
    this.now = options.now ?? (() => performance.now());
  }

  take(key: string): TakeResult {
    const { ratePerSecond, burst } = this.options;
    if (ratePerSecond <= 0) return { ok: true };
    const now = this.now();
    const bucket = this.buckets.get(key);
    let tokens = burst;
    if (bucket !== undefined) {
      tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond);
      this.buckets.delete(key); // re-inserted below: Map order is recency order
    }
    this.sweep(now);
    if (tokens < 1) {
      this.buckets.set(key, { tokens, at: now });
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / ratePerSecond)) };
    }
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    return { ok: true };
  }

  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    const { ratePerSecond, burst } = this.options;
    while (this.buckets.size >= this.maxKeys) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
    // Once per refill period, drop the buckets that are full again.
    const fullAfterMs = (burst / ratePerSecond) * 1000;
    if (now - this.sweptAt < fullAfterMs) return;
    this.sweptAt = now;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * ratePerSecond >= burst) this.buckets.delete(key);
    }
  }
}
