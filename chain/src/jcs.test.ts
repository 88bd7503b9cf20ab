import canonicalize from "canonicalize";
import { describe, expect, it } from "vitest";
import { CURRENCY_CODES, minorUnits } from "./currencies.js";
import { ChainVerifier, contextDigest, entryHash, type HashedFields, sha256Hex } from "./hash-chain.js";
import { canonicalJson } from "./jcs.js";
import { minorFromFormatted } from "./minor-units.js";

/**
 * The hash chain's canonical JSON and amount reading are written without packages (so offline verifiers such
 * as @cellwallet/client need none); every hash already stored was computed with `canonicalize`. These tests
 * pin that the new code gives exactly the old answers on many generated values (a seeded generator: a
 * failure reproduces). That amounts are read as decimal.js read them is pinned in contract/src/money.test.ts,
 * beside formatMinor (this package has no decimal.js).
 */

function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    // mulberry32: small, seeded, good enough to spread the cases.
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick };
}

// Characters where canonical JSON differs from naive JSON: escapes, controls, non-BMP pairs, keys that sort
// differently by UTF-16 code unit than by code point (U+FFFD vs U+1F600) or by locale (é, É, a, A).
const PIECES = [
  ..."aAzZ09 _-.:@/\\\"'",
  "\u0000",
  "\u0001",
  "\u001f",
  "\b",
  "\f",
  "\n",
  "\r",
  "\t",
  "\u007f",
  "\u2028",
  "\u2029",
  "é",
  "É",
  "€",
  "\ufffd",
  "\uffff",
  "😀",
  "𝄞",
  "日本",
  "\u0301",
  "ﬀ",
];

type Gen = ReturnType<typeof generator>;

function text(g: Gen, max = 8): string {
  return Array.from({ length: g.int(max + 1) }, () => g.pick(PIECES)).join("");
}

function number(g: Gen): number {
  return g.pick([
    () => g.int(1_000_000),
    () => -g.int(1_000_000),
    () => Number.MAX_SAFE_INTEGER - g.int(10),
    () => (g.next() - 0.5) * 10 ** g.int(40),
    () => g.next() * 10 ** -g.int(30),
    () => 1e21 * (1 + g.int(9)),
    () => -0,
    () => 0.1 + 0.2,
  ])();
}

function value(g: Gen, depth = 0): unknown {
  const kind = g.int(depth > 3 ? 4 : 6);
  if (kind === 0) return text(g);
  if (kind === 1) return number(g);
  if (kind === 2) return g.pick([true, false, null]);
  if (kind === 3) return g.int(2) ? text(g, 3) : number(g);
  if (kind === 4) return Array.from({ length: g.int(5) }, () => value(g, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = g.int(6); i > 0; i--) object[text(g, 4)] = value(g, depth + 1);
  return object;
}

/** The entry hash exactly as it was computed before (canonicalize + SHA-256). */
function entryHashBefore(entry: HashedFields): string {
  const members: Record<string, unknown> = { ...entry };
  for (const key of Object.keys(members)) if (members[key] === undefined) delete members[key];
  return sha256Hex(canonicalize(members) as string);
}

/** A non-negative amount written as the API writes it (formatMinor lives in the contract, not here). */
function formatMinor(minor: bigint, currency: string): string {
  const digits = minorUnits(currency) as number;
  const plain = minor.toString().padStart(digits + 1, "0");
  return digits === 0 ? plain : `${plain.slice(0, -digits)}.${plain.slice(-digits)}`;
}

describe("canonical JSON without packages", () => {
  it("writes exactly what canonicalize wrote, on 3000 generated JSON values", () => {
    const g = generator(8785);
    for (let i = 0; i < 3000; i++) {
      const v = value(g);
      expect(canonicalJson(v), JSON.stringify(v)).toBe(canonicalize(v));
    }
  });

  it("follows RFC 8785's own examples of ordering and number forms", () => {
    expect(canonicalJson({ "\u20ac": 1, "\r": 2, "\ufb33": 3, "1": 4, "\ud83d\ude00": 5, "\u0080": 6, ö: 7 })).toBe(
      '{"\\r":2,"1":4,"\u0080":6,"ö":7,"€":1,"😀":5,"\ufb33":3}',
    );
    expect(canonicalJson([1e21, 1e-7, -0, 333333333.3333333, 4.5, 2e-3, 0.000001])).toBe(
      "[1e+21,1e-7,0,333333333.3333333,4.5,0.002,0.000001]",
    );
    expect(canonicalJson({ b: undefined, a: [undefined], d: new Date(0) })).toBe(
      '{"a":[null],"d":"1970-01-01T00:00:00.000Z"}',
    );
  });

  it("refuses what has no canonical form", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, "a\ud800", { "\udc00": 1 }, cycle, 1n, undefined]) {
      expect(() => canonicalJson(bad)).toThrow();
    }
    const shared = { y: 1 }; // the same object twice is not a cycle
    expect(canonicalJson({ a: [undefined, shared], b: shared })).toBe('{"a":[null,{"y":1}],"b":{"y":1}}');
  });
});

describe("the hash chain and amounts without packages", () => {
  it("hashes 2000 generated entries as before, with unicode and escaped strings and every currency exponent", () => {
    const g = generator(14);
    const exponents = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const currency = g.pick(CURRENCY_CODES);
      exponents.add(minorUnits(currency) as number);
      const entry: HashedFields = {
        transactionId: `tx-${text(g)}`,
        walletId: text(g, 12),
        type: g.pick(["DEPOSIT", "WITHDRAWAL", "TRANSFER_OUT", "TRANSFER_IN", "TRANSFER_REFUND"] as const),
        amount: formatMinor(BigInt(1 + g.int(1e9)) * BigInt(1 + g.int(1e4)), currency),
        currency,
        balanceAfter: formatMinor(BigInt(g.int(1e15)), currency),
        sequence: 1 + g.int(1e9),
        createdAt: new Date(g.int(4e12)).toISOString(),
        contextDigest: contextDigest({ principal: text(g), scopes: [text(g), text(g)], userAgent: text(g, 20) }),
        prevHash: sha256Hex(text(g)),
      };
      if (g.int(2)) entry.reference = text(g, 30);
      if (g.int(2)) entry.transferId = text(g);
      if (g.int(2)) entry.counterpartyWalletId = text(g);
      expect(entryHash(entry), JSON.stringify(entry)).toBe(entryHashBefore(entry));
    }
    expect([...exponents].sort()).toEqual([0, 2, 3, 4]);
  });

  it("digests audit contexts as before", () => {
    const g = generator(6);
    for (let i = 0; i < 500; i++) {
      const context = { principal: text(g), clientIp: text(g), requestId: text(g), idempotencyKey: text(g, 30) };
      expect(contextDigest(context)).toBe(sha256Hex(canonicalize(context) as string));
    }
  });

  it("refuses what formatMinor cannot have written, and the verifier reports it instead of throwing", () => {
    for (const [text, currency] of [
      ["10.505", "USD"],
      ["1.5", "JPY"],
      ["1e3", "USD"],
      ["", "USD"],
      [" 1.00", "USD"],
      ["+1.00", "USD"],
      ["1.", "USD"],
      ["1.00", "XXX"],
    ]) {
      expect(() => minorFromFormatted(text as string, currency as string), text).toThrow();
    }
    const fields: HashedFields = {
      transactionId: "t",
      walletId: "w",
      type: "DEPOSIT",
      amount: "ten",
      currency: "USD",
      balanceAfter: "10.00",
      sequence: 1,
      createdAt: "2026-01-01T00:00:00.000Z",
      contextDigest: contextDigest({}),
      prevHash: "0".repeat(64),
    };
    const verifier = new ChainVerifier(minorFromFormatted);
    verifier.add({ ...fields, hash: entryHash(fields) });
    expect(verifier.result()).toMatchObject({ valid: false, firstInvalidSequence: 1, reason: /not an amount/ });
  });
});
