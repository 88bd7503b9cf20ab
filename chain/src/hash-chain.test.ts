import { describe, expect, it } from "vitest";
import {
  ChainVerifier,
  contextDigest,
  entryHash,
  GENESIS_HASH,
  type HashedFields,
  sha256Hex,
  type TransactionView,
} from "./hash-chain.js";
import { minorFromFormatted } from "./minor-units.js";

function chain(amounts: [TransactionView["type"], string][]): TransactionView[] {
  let prevHash = GENESIS_HASH;
  let balance = 0n;
  return amounts.map(([type, amount], i) => {
    const minor = minorFromFormatted(amount, "USD");
    balance += type === "WITHDRAWAL" || type === "TRANSFER_OUT" ? -minor : minor;
    const fields: HashedFields = {
      transactionId: `tx${i}`,
      walletId: "w1",
      type,
      amount,
      currency: "USD",
      balanceAfter: (Number(balance) / 100).toFixed(2),
      sequence: i + 1,
      createdAt: new Date(Date.UTC(2026, 0, 1) + i).toISOString(),
      contextDigest: contextDigest({ principal: "alice" }),
      prevHash,
    };
    const entry = { ...fields, hash: entryHash(fields) };
    prevHash = entry.hash;
    return entry;
  });
}

const verify = (entries: TransactionView[]) => {
  const v = new ChainVerifier(minorFromFormatted);
  for (const e of entries) v.add(e);
  return v.result();
};

describe("hash chain", () => {
  it("hashes the RFC 8785 canonical JSON of exactly the chained members", () => {
    const fields: HashedFields = {
      transactionId: "t",
      walletId: "w",
      type: "DEPOSIT",
      amount: "1.00",
      currency: "USD",
      balanceAfter: "1.00",
      sequence: 1,
      createdAt: "2026-01-01T00:00:00.000Z",
      contextDigest: "c",
      prevHash: GENESIS_HASH,
    };
    const canonical =
      '{"amount":"1.00","balanceAfter":"1.00","contextDigest":"c","createdAt":"2026-01-01T00:00:00.000Z","currency":"USD",' +
      `"prevHash":"${GENESIS_HASH}","sequence":1,"transactionId":"t","type":"DEPOSIT","walletId":"w"}`;
    expect(entryHash(fields)).toBe(sha256Hex(canonical));
    expect(entryHash({ ...fields, reference: "r" })).not.toBe(entryHash(fields));
  });

  it("digests the audit context with absent members omitted, in canonical order", () => {
    expect(contextDigest({ requestId: "r", principal: "p" })).toBe(sha256Hex('{"principal":"p","requestId":"r"}'));
    expect(contextDigest({})).toBe(sha256Hex("{}"));
  });

  it("verifies an intact chain and reports its head", () => {
    const entries = chain([
      ["DEPOSIT", "10.00"],
      ["WITHDRAWAL", "2.50"],
      ["TRANSFER_IN", "1.00"],
    ]);
    expect(verify(entries)).toEqual({
      valid: true,
      entries: 3,
      headHash: entries[2]?.hash,
      firstInvalidSequence: null,
    });
    expect(verify([])).toEqual({ valid: true, entries: 0, headHash: GENESIS_HASH, firstInvalidSequence: null });
  });

  it.each([
    ["a changed amount", (e: TransactionView[]) => e.map((x, i) => (i === 1 ? { ...x, amount: "2.49" } : x)), 2],
    ["a deleted entry", (e: TransactionView[]) => e.filter((_, i) => i !== 1), 2],
    ["re-ordered entries", (e: TransactionView[]) => [e[0], e[2], e[1]] as TransactionView[], 2],
    [
      "a re-hashed but unlinked entry",
      (e: TransactionView[]) => e.map((x, i) => (i === 2 ? rehash({ ...x, prevHash: GENESIS_HASH }) : x)),
      3,
    ],
    [
      "a consistent but wrong balance",
      (e: TransactionView[]) => e.map((x, i) => (i === 0 ? rehash({ ...x, balanceAfter: "11.00" }) : x)),
      1,
    ],
  ])("finds %s at the right sequence", (_name, tamper, sequence) => {
    const entries = chain([
      ["DEPOSIT", "10.00"],
      ["WITHDRAWAL", "2.50"],
      ["TRANSFER_IN", "1.00"],
    ]);
    const result = verify(tamper(entries));
    expect(result.valid).toBe(false);
    expect(result.firstInvalidSequence).toBe(sequence);
  });
});

function rehash(entry: TransactionView): TransactionView {
  const { hash: _old, ...fields } = entry;
  return { ...fields, hash: entryHash(fields) };
}
