import { afterEach, describe, expect, it, vi } from "vitest";
import { createTokenVerifier, DEVELOPMENT_JWT_SECRET, mintToken } from "./jwt.js";
import { cacheVerifiedTokens, type VerifiedToken } from "./token-cache.js";

const principal = (subject: string) => ({ subject, scopes: ["wallet"] });

/** An inner verifier that counts its calls and accepts tokens named "good-<sub>-<exp seconds>". */
function countingVerifier() {
  const calls: string[] = [];
  const verify = async (token: string): Promise<VerifiedToken> => {
    calls.push(token);
    const match = /^good-(\w+)-(\d+)$/.exec(token);
    if (!match) return { ok: false, reason: "bad token" };
    return { ok: true, principal: principal(match[1] as string), expiresAt: Number(match[2]) };
  };
  return { verify, calls };
}

describe("the verified-token cache", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("answers a token it verified from the cache, and never caches a refusal", async () => {
    const { verify, calls } = countingVerifier();
    const cached = cacheVerifiedTokens(verify, { now: () => 1_000_000 });
    expect(await cached("good-alice-2000")).toEqual({ ok: true, principal: principal("alice") });
    expect(await cached("good-alice-2000")).toEqual({ ok: true, principal: principal("alice") });
    expect(calls).toEqual(["good-alice-2000"]);
    expect((await cached("forged")).ok).toBe(false);
    expect((await cached("forged")).ok).toBe(false);
    expect(calls).toEqual(["good-alice-2000", "forged", "forged"]);
  });

  it("refuses a cached token once its exp has passed, exactly as jose does (exp <= now in seconds)", async () => {
    const { verify, calls } = countingVerifier();
    let now = 1_999_000; // ms: 1999 s, exp 2000 s
    const cached = cacheVerifiedTokens(verify, { now: () => now, maxAgeMs: 10_000_000 });
    expect((await cached("good-alice-2000")).ok).toBe(true);
    now = 1_999_999;
    expect((await cached("good-alice-2000")).ok).toBe(true);
    now = 2_000_000;
    expect(await cached("good-alice-2000")).toEqual({ ok: false, reason: expect.stringMatching(/exp/) });
    expect(calls).toEqual(["good-alice-2000"]);
  });

  it("verifies a cached token in full again after maxAgeMs (a withdrawn key stops being honoured)", async () => {
    let accept = true;
    let calls = 0;
    const verify = async (): Promise<VerifiedToken> => {
      calls += 1;
      return accept ? { ok: true, principal: principal("alice"), expiresAt: 10_000 } : { ok: false, reason: "no key" };
    };
    let now = 0;
    const cached = cacheVerifiedTokens(verify, { now: () => now, maxAgeMs: 30_000 });
    expect((await cached("t")).ok).toBe(true);
    accept = false;
    now = 29_999;
    expect((await cached("t")).ok).toBe(true);
    now = 30_000;
    expect((await cached("t")).ok).toBe(false);
    expect(calls).toBe(2);
  });

  it("keeps at most maxEntries tokens (least recently used out) and never caches an over-long token", async () => {
    const { verify, calls } = countingVerifier();
    const cached = cacheVerifiedTokens(verify, { now: () => 0, maxEntries: 2, maxTokenLength: 20 });
    await cached("good-a-9");
    await cached("good-b-9");
    await cached("good-a-9"); // a is now the most recently used
    await cached("good-c-9"); // evicts b
    calls.length = 0;
    await cached("good-a-9");
    await cached("good-c-9");
    expect(calls).toEqual([]);
    await cached("good-b-9");
    expect(calls).toEqual(["good-b-9"]);
    const long = `good-${"x".repeat(30)}-9`;
    await cached(long);
    await cached(long);
    expect(calls.filter((t) => t === long)).toHaveLength(2);
  });

  it("gives every caller its own principal: a change by one request is not seen by the next", async () => {
    const { verify } = countingVerifier();
    const cached = cacheVerifiedTokens(verify, { now: () => 0 });
    const first = await cached("good-alice-9");
    if (!first.ok) throw new Error("expected ok");
    first.principal.scopes.push("wallet:operator");
    expect(await cached("good-alice-9")).toEqual({ ok: true, principal: principal("alice") });
  });

  it("with real tokens: a cached HS256 token is refused once it expires, a tampered one is never accepted", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-01-01T00:00:00Z"));
    const verify = createTokenVerifier({ kind: "hs256", secret: DEVELOPMENT_JWT_SECRET });
    const token = await mintToken({ sub: "alice", scopes: ["wallet"], secret: DEVELOPMENT_JWT_SECRET, ttlSeconds: 5 });
    expect(await verify(token)).toEqual({ ok: true, principal: principal("alice") });
    expect(await verify(token)).toEqual({ ok: true, principal: principal("alice") });
    const [h, p, s] = token.split(".");
    const tampered = `${h}.${p}.${(s as string).slice(0, -2)}${(s as string).endsWith("AA") ? "BB" : "AA"}`;
    expect((await verify(tampered)).ok).toBe(false);
    vi.setSystemTime(new Date("2026-01-01T00:00:05Z"));
    expect((await verify(token)).ok).toBe(false);
    const uncached = createTokenVerifier({ kind: "hs256", secret: DEVELOPMENT_JWT_SECRET }, false);
    expect((await uncached(token)).ok).toBe(false);
  });
});
