import { GENESIS_HASH } from "@cellwallet/contract";
import { describe, expect, it } from "vitest";
import type { WalletHead } from "./checkpoint.js";
import { type LedgerEntry, post } from "./ledger-entry.js";
import { openWallet, type Wallet } from "./wallet.js";
import { type Anchor, type WalletVerification, WalletVerifier } from "./wallet-verification.js";

const context = { principal: "alice" };

/** A wallet after deposits of the given amounts (minor units), with its row after each entry. */
function history(amounts: bigint[]): { rows: Wallet[]; entries: LedgerEntry[] } {
  const rows = [openWallet("w1", "alice", "USD", 0)];
  const entries: LedgerEntry[] = [];
  for (const amount of amounts) {
    const last = rows.at(-1) as Wallet;
    const result = post(
      last,
      { transactionId: `t${entries.length + 1}`, type: "DEPOSIT", amount, context },
      1_000 * rows.length,
    );
    if (!result.ok) throw new Error("refused");
    rows.push(result.value.wallet);
    entries.push(result.value.entry);
  }
  return { rows, entries };
}

function verify(row: Wallet, entries: LedgerEntry[], options: { anchor?: Anchor; fresh?: Wallet } = {}) {
  const verifier = new WalletVerifier(row, options.anchor);
  for (const entry of entries) verifier.add(entry);
  return { verifier, result: verifier.finish(options.fresh) };
}

const invalidAt = (result: WalletVerification) => [result.valid, result.firstInvalidSequence, result.reason];
const headOf = (row: Wallet): WalletHead => ({
  walletId: row.walletId,
  currency: row.currency,
  balance: row.balance,
  version: row.version,
  headHash: row.headHash,
});

describe("WalletVerifier: the chain and the row agree", () => {
  const { rows, entries } = history([100n, 200n, 300n]);
  const row = rows[3] as Wallet;

  it("passes a wallet whose row is the chain's head", () => {
    expect(verify(row, entries).result).toEqual({
      walletId: "w1",
      valid: true,
      entries: 3,
      headHash: row.headHash,
      firstInvalidSequence: null,
    });
  });

  it("passes a wallet with no entries, at the genesis hash", () => {
    expect(verify(rows[0] as Wallet, []).result).toEqual({
      walletId: "w1",
      valid: true,
      entries: 0,
      headHash: GENESIS_HASH,
      firstInvalidSequence: null,
    });
  });
});

describe("WalletVerifier: tampering with the entries", () => {
  const { rows, entries } = history([100n, 200n, 300n]);
  const row = rows[3] as Wallet;
  const [first, second, third] = entries as [LedgerEntry, LedgerEntry, LedgerEntry];

  it("finds an entry changed after it was written, at its sequence", () => {
    const altered = { ...second, amount: 250n, balanceAfter: 350n };
    expect(invalidAt(verify(row, [first, altered, third]).result)).toEqual([
      false,
      2,
      "hash does not match the entry's contents",
    ]);
  });

  it("finds a deleted entry where the gap starts", () => {
    expect(invalidAt(verify(row, [first, third]).result)).toEqual([false, 2, "expected sequence 2, found 3"]);
  });

  it("finds missing entries at the end against the row's version", () => {
    expect(invalidAt(verify(row, [first, second]).result)).toEqual([
      false,
      3,
      "wallet version is 3 but only 2 entries exist",
    ]);
  });
});

describe("WalletVerifier: tampering with the row", () => {
  const { rows, entries } = history([100n, 200n, 300n]);
  const row = rows[3] as Wallet;

  it("finds a balance that is not the sum of the entries", () => {
    expect(invalidAt(verify({ ...row, balance: row.balance + 1n }, entries).result)).toEqual([
      false,
      3,
      "wallet balance differs from the sum of its entries",
    ]);
  });

  it("finds a head hash that is not the chain's at the row's version", () => {
    expect(invalidAt(verify({ ...row, headHash: "a".repeat(64) }, entries).result)).toEqual([
      false,
      3,
      "wallet headHash differs from the chain's hash at its version",
    ]);
  });
});

describe("WalletVerifier: entries written after the row was read", () => {
  const { rows, entries } = history([100n, 200n, 300n]);
  const stale = rows[2] as Wallet;
  const fresh = rows[3] as Wallet;

  it("asks for a fresh row only when the chain runs past the row", () => {
    expect(verify(stale, entries).verifier.needsFreshRow()).toBe(true);
    expect(verify(fresh, entries).verifier.needsFreshRow()).toBe(false);
  });

  it("passes when the fresh row explains the extra entries", () => {
    const { result } = verify(stale, entries, { fresh });
    expect(result).toMatchObject({ valid: true, entries: 3, headHash: fresh.headHash });
  });

  it("fails when no row explains them: appended behind the service's back", () => {
    expect(invalidAt(verify(stale, entries).result)).toEqual([false, 3, "entries exist beyond the wallet's version 2"]);
    expect(invalidAt(verify(stale, entries, { fresh: stale }).result)).toEqual([
      false,
      3,
      "entries exist beyond the wallet's version 2",
    ]);
  });

  it("fails when the fresh row's head or balance is not the chain's", () => {
    expect(invalidAt(verify(stale, entries, { fresh: { ...fresh, balance: 1n } }).result)).toEqual([
      false,
      3,
      "wallet head or balance differs from its chain",
    ]);
  });
});

describe("WalletVerifier: a head signed by a checkpoint (anchor)", () => {
  const { rows, entries } = history([100n, 200n, 300n]);
  const row = rows[3] as Wallet;
  const anchorAt = (version: number, checkpoint = 7): Anchor => ({ head: headOf(rows[version] as Wallet), checkpoint });

  it("passes a chain that goes through the signed head, at any version up to the row's", () => {
    for (const version of [0, 1, 2, 3])
      expect(verify(row, entries, { anchor: anchorAt(version) }).result.valid).toBe(true);
  });

  it("finds a chain rewritten consistently (every hash and the row recomputed) at the signed version", () => {
    // The same wallet with a different second deposit: a valid chain with a matching row, but not the signed one.
    const rewritten = history([100n, 999n, 300n]);
    const plain = verify(rewritten.rows[3] as Wallet, rewritten.entries);
    expect(plain.result.valid).toBe(true);
    const anchored = verify(rewritten.rows[3] as Wallet, rewritten.entries, { anchor: anchorAt(2) });
    expect(invalidAt(anchored.result)).toEqual([
      false,
      2,
      "entry 2 differs from the head signed by checkpoint 7 (chain rewritten)",
    ]);
  });

  it("finds a signed balance that the chain does not reach", () => {
    const anchor: Anchor = { head: { ...headOf(rows[2] as Wallet), balance: 1n }, checkpoint: 4 };
    expect(invalidAt(verify(row, entries, { anchor }).result)).toEqual([
      false,
      2,
      "entry 2 differs from the head signed by checkpoint 4 (chain rewritten)",
    ]);
  });

  it("finds a chain cut below the signed version", () => {
    const cut = entries.slice(0, 2);
    const anchored = verify(rows[2] as Wallet, cut, { anchor: anchorAt(3) });
    expect(invalidAt(anchored.result)).toEqual([false, 3, "checkpoint 7 signed version 3 but only 2 entries exist"]);
  });

  it("reports the anchor's mismatch before a chain fault found later in the chain", () => {
    const rewritten = history([100n, 999n, 300n]);
    const broken = [...rewritten.entries.slice(0, 2), { ...(rewritten.entries[2] as LedgerEntry), amount: 1n }];
    const anchored = verify(rewritten.rows[3] as Wallet, broken, { anchor: anchorAt(2) });
    expect(anchored.result.firstInvalidSequence).toBe(2);
    expect(anchored.result.reason).toMatch(/signed by checkpoint 7/);
  });
});
