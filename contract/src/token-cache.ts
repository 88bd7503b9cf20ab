import type { Principal } from "./auth.js";

/**
 * A bounded cache of verified bearer tokens. Verifying a JWT (HMAC or signature, base64 and JSON
 * decoding, claim checks) cost ~10-15% of a cell's and of the router's CPU per request, and a client
 * sends the same token on request after request. Only a token that passed full verification is
 * cached, keyed by the whole token string (any change to any byte is another key, verified in full).
 * A cached token is accepted only while it would still pass verification: until its `exp` (compared
 * exactly as jose does, in whole seconds, no tolerance), and no longer than `maxAgeMs` after it was
 * verified, so a key withdrawn from a JWKS stops being honoured within that time (jose caches the
 * JWKS itself for up to 10 minutes, so this adds no delay to a key's withdrawal). Least recently
 * used entries go first once `maxEntries` is reached; tokens longer than `maxTokenLength` are never
 * cached, so the cache's memory stays bounded whatever clients send.
 */

export type VerifiedToken = { ok: true; principal: Principal; expiresAt: number } | { ok: false; reason: string };

export interface TokenCacheOptions {
  maxEntries?: number;
  maxAgeMs?: number;
  maxTokenLength?: number;
  /** Milliseconds since the epoch; Date.now (the clock jose checks exp against) unless a test says otherwise. */
  now?: () => number;
}

interface Entry {
  subject: string;
  scopes: readonly string[];
  /** `exp` in seconds since the epoch. */
  expiresAt: number;
  /** Date.now() after which the entry is verified again. */
  staleAt: number;
}

export const TOKEN_CACHE_DEFAULTS = { maxEntries: 4096, maxAgeMs: 30_000, maxTokenLength: 4096 } as const;

export function cacheVerifiedTokens(
  verify: (token: string) => Promise<VerifiedToken>,
  options: TokenCacheOptions = {},
): (token: string) => Promise<{ ok: true; principal: Principal } | { ok: false; reason: string }> {
  const maxEntries = options.maxEntries ?? TOKEN_CACHE_DEFAULTS.maxEntries;
  const maxAgeMs = options.maxAgeMs ?? TOKEN_CACHE_DEFAULTS.maxAgeMs;
  const maxTokenLength = options.maxTokenLength ?? TOKEN_CACHE_DEFAULTS.maxTokenLength;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  return async (token) => {
    const cached = entries.get(token);
    if (cached !== undefined) {
      const at = now();
      entries.delete(token);
      // jose refuses when exp <= floor(now / 1000): an expired token is refused for good, without a new check.
      if (cached.expiresAt <= Math.floor(at / 1000)) return { ok: false, reason: '"exp" claim timestamp check failed' };
      if (at < cached.staleAt) {
        entries.set(token, cached); // most recently used last
        // A copy: whoever receives the principal cannot change what the next request is given.
        return { ok: true, principal: { subject: cached.subject, scopes: [...cached.scopes] } };
      }
    }
    const verified = await verify(token);
    if (!verified.ok) return verified;
    const { principal, expiresAt } = verified;
    if (token.length <= maxTokenLength && maxEntries > 0) {
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(token, {
        subject: principal.subject,
        scopes: [...principal.scopes],
        expiresAt,
        staleAt: now() + maxAgeMs,
      });
    }
    return { ok: true, principal };
  };
}
