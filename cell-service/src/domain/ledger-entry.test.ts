import { type AuditContext, contextDigest, entryHash, GENESIS_HASH } from "@cellwallet/contract";
import { describe, expect, it } from "vitest";
import { isDebit, type LedgerEntry, type Posting, post, toTransactionView } from "./ledger-entry.js";
import type { Wallet } from "./wallet.js";
import { openWallet } from "./wallet.js";

const context: AuditContext = { principal: "alice", scopes: ["wallet"], requestId: "r1" };
const posting = (type: Posting["type"], amount: bigint, extra: Partial<Posting> = {}): Posting => ({
  transactionId: `t-${type}-${amount}`,
  type,
  amount,
  context,
  ...extra,
});

function posted(wallet: Wallet, p: Posting, now = 2_000): { wallet: Wallet; entry: LedgerEntry } {
  const result = post(wallet, p, now);
  if (!result.ok) throw new Error(`refused: ${result.problem.code}`);
  return result.value;
}

describe("isDebit", () => {
  it("debits withdrawals and outgoing transfers only", () => {
    expect(isDebit("WITHDRAWAL")).toBe(true);
    expect(isDebit("TRANSFER_OUT")).toBe(true);
    expect(isDebit("DEPOSIT")).toBe(false);
    expect(isDebit("TRANSFER_IN")).toBe(false);
    expect(isDebit("TRANSFER_REFUND")).toBe(false);
  });
});

describe("post: the balance rule", () => {
  const empty = openWallet("w1", "alice", "USD", 1_000);

  it.each([
    ["DEPOSIT", 700n],
    ["TRANSFER_IN", 700n],
    ["TRANSFER_REFUND", 700n],
  ] as const)("%s credits the wallet", (type, expected) => {
    const { wallet, entry } = posted(empty, posting(type, 700n));
    expect(wallet.balance).toBe(expected);
    expect(entry).toMatchObject({ type, amount: 700n, balanceAfter: expected, currency: "USD" });
  });

  it.each(["WITHDRAWAL", "TRANSFER_OUT"] as const)("%s debits the wallet, down to exactly zero", (type) => {
    const funded = posted(empty, posting("DEPOSIT", 250n)).wallet;
    const { wallet, entry } = posted(funded, posting(type, 250n));
    expect(wallet.balance).toBe(0n);
    expect(entry.balanceAfter).toBe(0n);
  });

  it.each(["WITHDRAWAL", "TRANSFER_OUT"] as const)(
    "%s one minor unit beyond the balance is refused with insufficient-funds, naming both amounts",
    (type) => {
      const funded = posted(empty, posting("DEPOSIT", 250n)).wallet;
      const result = post(funded, posting(type, 251n), 3_000);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.problem.code).toBe("insufficient-funds");
      expect(result.problem.detail).toBe("wallet w1 has 2.50 USD, needs 2.51");
    },
  );

  it("formats the refusal in the wallet's currency's minor units (JPY has none)", () => {
    const yen = openWallet("y", "yuki", "JPY", 0);
    const result = post(yen, posting("WITHDRAWAL", 5n), 1);
    expect(result.ok ? "ok" : result.problem.detail).toBe("wallet y has 0 JPY, needs 5");
  });

  it.each([0n, -1n])("throws on a non-positive amount (%s): the sign comes from the type", (amount) => {
    expect(() => post(empty, posting("DEPOSIT", amount), 1)).toThrow(/positive/);
  });

  it("leaves the input wallet as it was, whether it accepts or refuses", () => {
    const before = structuredClone(empty);
    posted(empty, posting("DEPOSIT", 10n));
    post(empty, posting("WITHDRAWAL", 10n), 1);
    expect(empty).toEqual(before);
  });
});

describe("post: the chain rule", () => {
  const empty = openWallet("w1", "alice", "USD", 1_000);

  it("starts at sequence 1 from the genesis hash and links every next entry to the previous hash", () => {
    const first = posted(empty, posting("DEPOSIT", 100n));
    const second = posted(first.wallet, posting("DEPOSIT", 1n), 2_500);
    const third = posted(second.wallet, posting("WITHDRAWAL", 101n), 2_600);
    expect([first.entry.sequence, second.entry.sequence, third.entry.sequence]).toEqual([1, 2, 3]);
    expect(first.entry.prevHash).toBe(GENESIS_HASH);
    expect(second.entry.prevHash).toBe(first.entry.hash);
    expect(third.entry.prevHash).toBe(second.entry.hash);
    expect(third.wallet).toMatchObject({ version: 3, headHash: third.entry.hash, balance: 0n, updatedAt: 2_600 });
    expect(new Set([first.entry.hash, second.entry.hash, third.entry.hash]).size).toBe(3);
  });

  it("hashes exactly the public view's members, and records the digest of the audit context", () => {
    const { entry } = posted(empty, posting("DEPOSIT", 100n, { reference: "salary" }));
    const { hash, ...fields } = toTransactionView(entry);
    expect(hash).toBe(entry.hash);
    expect(entryHash(fields)).toBe(entry.hash);
    expect(entry.contextDigest).toBe(contextDigest(context));
    expect(entry.context).toEqual(context);
  });

  it("covers the optional members in the hash: a different reference is a different entry", () => {
    const plain = posted(empty, posting("DEPOSIT", 100n)).entry;
    const referenced = posted(empty, posting("DEPOSIT", 100n, { reference: "r" })).entry;
    const otherContext = posted(empty, posting("DEPOSIT", 100n, { context: { principal: "bob" } })).entry;
    expect(referenced.hash).not.toBe(plain.hash);
    expect(otherContext.hash).not.toBe(plain.hash);
    expect(plain).not.toHaveProperty("reference");
    expect(plain).not.toHaveProperty("transferId");
    expect(plain).not.toHaveProperty("counterpartyWalletId");
  });

  it("is deterministic: the same posting on the same wallet at the same time is the same entry", () => {
    const a = posted(empty, posting("DEPOSIT", 100n, { transferId: "x", counterpartyWalletId: "w2" }));
    const b = posted(empty, posting("DEPOSIT", 100n, { transferId: "x", counterpartyWalletId: "w2" }));
    expect(a.entry).toEqual(b.entry);
  });

  it("keeps entry times monotonic: a clock that steps back gets the last entry's time", () => {
    const first = posted(empty, posting("DEPOSIT", 1n), 9_000);
    const second = posted(first.wallet, posting("DEPOSIT", 1n), 8_000);
    expect(second.entry.createdAt).toBe(9_000);
    expect(second.wallet.lastEntryAt).toBe(9_000);
    const third = posted(second.wallet, posting("DEPOSIT", 1n), 9_500);
    expect(third.entry.createdAt).toBe(9_500);
  });
});

describe("toTransactionView", () => {
  it("formats money in the currency's decimals and times as ISO-8601, and carries the optional members", () => {
    const { entry } = posted(
      openWallet("w1", "alice", "USD", 0),
      posting("DEPOSIT", 12_345n, { reference: "ref", transferId: "tr", counterpartyWalletId: "w2" }),
      Date.UTC(2026, 0, 2, 3, 4, 5, 6),
    );
    expect(toTransactionView(entry)).toEqual({
      transactionId: entry.transactionId,
      walletId: "w1",
      type: "DEPOSIT",
      amount: "123.45",
      currency: "USD",
      balanceAfter: "123.45",
      sequence: 1,
      createdAt: "2026-01-02T03:04:05.006Z",
      contextDigest: contextDigest(context),
      prevHash: GENESIS_HASH,
      hash: entry.hash,
      reference: "ref",
      transferId: "tr",
      counterpartyWalletId: "w2",
    });
  });

  it("never shows the audit context itself", () => {
    const { entry } = posted(openWallet("w1", "alice", "JPY", 0), posting("DEPOSIT", 500n));
    const view = toTransactionView(entry);
    expect(view).not.toHaveProperty("context");
    expect(view.amount).toBe("500");
  });
});
