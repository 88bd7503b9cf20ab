import { describe, expect, it } from "vitest";
import { RateLimiter } from "../src/rate-limit.js";

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("RateLimiter", () => {
  it("allows a burst, then the refill rate, and says when to come back", () => {
    const c = clock();
    const limiter = new RateLimiter({ ratePerSecond: 2, burst: 3, now: c.now });
    for (let i = 0; i < 3; i++) expect(limiter.take("alice")).toEqual({ ok: true });
    expect(limiter.take("alice")).toEqual({ ok: false, retryAfterSeconds: 1 });
    c.advance(500); // one token back
    expect(limiter.take("alice")).toEqual({ ok: true });
    expect(limiter.take("alice").ok).toBe(false);
  });

  it("keeps principals apart", () => {
    const c = clock();
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1, now: c.now });
    expect(limiter.take("alice").ok).toBe(true);
    expect(limiter.take("alice").ok).toBe(false);
    expect(limiter.take("bob").ok).toBe(true);
  });

  it("rounds Retry-After up to whole seconds for slow rates", () => {
    const c = clock();
    const limiter = new RateLimiter({ ratePerSecond: 0.25 as number, burst: 1, now: c.now });
    limiter.take("a");
    expect(limiter.take("a")).toEqual({ ok: false, retryAfterSeconds: 4 });
  });

  it("is off at rate 0", () => {
    const limiter = new RateLimiter({ ratePerSecond: 0, burst: 1 });
    for (let i = 0; i < 100; i++) expect(limiter.take("a").ok).toBe(true);
    expect(limiter.size).toBe(0);
  });

  it("bounds its memory: full buckets are dropped and the least recently used go first", () => {
    const c = clock();
    const limiter = new RateLimiter({ ratePerSecond: 100, burst: 10, maxKeys: 50, now: c.now });
    for (let i = 0; i < 500; i++) limiter.take(`user-${i}`);
    expect(limiter.size).toBeLessThanOrEqual(50);
    c.advance(1000);
    limiter.take("late");
    expect(limiter.size).toBe(1);
  });
});
