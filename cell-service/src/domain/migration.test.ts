import { describe, expect, it } from "vitest";
import { type LedgerEntry, type Posting, post } from "./ledger-entry.js";
import { extendChain, reconcileTransfer, sameEntry } from "./migration.js";
import type { Transfer } from "./transfer.js";
import { openWallet, type Wallet } from "./wallet.js";

const context = { principal: "operator", scopes: ["wallet:operator"] };

/** The source cell's wallet after a few postings, and its entries in order. */
type Four = [LedgerEntry, LedgerEntry, LedgerEntry, LedgerEntry];
function sourceChain(): { wallet: Wallet; entries: Four } {
  let wallet = openWallet("w1", "alice", "USD", 100);
  const entries: LedgerEntry[] = [];
  const postings: Array<[Posting["type"], bigint, number]> = [
    ["DEPOSIT", 1_000n, 1_000],
    ["WITHDRAWAL", 300n, 2_000],
    ["TRANSFER_OUT", 200n, 3_000],
    ["TRANSFER_REFUND", 200n, 4_000],
  ];
  for (const [type, amount, now] of postings) {
    const result = post(wallet, { transactionId: `t${entries.length + 1}`, type, amount, context }, now);
    if (!result.ok) throw new Error("refused");
    wallet = result.value.wallet;
    entries.push(result.value.entry);
  }
  return { wallet, entries: entries as Four };
}

/** The target's importing copy before any entry: the same wallet at version 0. */
const importing = (): Wallet => ({
  ...openWallet("w1", "alice", "USD", 100),
  ownership: { state: "importing", epoch: 2, migrationId: "m1", peerCellId: "cell-a" },
});

function conflictOf(head: Wallet, entry: LedgerEntry): string {
  const result = extendChain(head, entry);
  if (result.ok) return "extended";
  expect(result.problem.code).toBe("migration-conflict");
  return result.problem.detail;
}

describe("extendChain: an imported entry must continue the copy's chain exactly", () => {
  const { wallet: source, entries } = sourceChain();

  it("rebuilds the source's head entry by entry", () => {
    let head = importing();
    for (const entry of entries) {
      const next = extendChain(head, entry);
      if (!next.ok) throw new Error(next.problem.detail);
      head = next.value;
    }
    expect(head).toMatchObject({
      balance: source.balance,
      version: source.version,
      headHash: source.headHash,
      lastEntryAt: source.lastEntryAt,
      updatedAt: 4_000,
      ownership: { state: "importing" },
    });
    expect(head.balance).toBe(700n);
  });

  it("refuses an entry of another wallet", () => {
    expect(conflictOf(importing(), { ...entries[0], walletId: "w2" })).toBe(
      "entry 1 of wallet w2 belongs to another wallet",
    );
  });

  it("refuses a gap or a repeat in the sequence", () => {
    expect(conflictOf(importing(), entries[1])).toBe("entry 2 of wallet w1 does not follow the copy's version 0");
    const one = extendChain(importing(), entries[0]);
    if (!one.ok) throw new Error("refused");
    expect(conflictOf(one.value, entries[0])).toBe("entry 1 of wallet w1 does not follow the copy's version 1");
  });

  it("refuses an entry that does not link to the copy's head", () => {
    expect(conflictOf(importing(), { ...entries[0], prevHash: "f".repeat(64) })).toBe(
      "entry 1 of wallet w1 does not link to the copy's head",
    );
  });

  it("refuses an entry in another currency", () => {
    expect(conflictOf(importing(), { ...entries[0], currency: "EUR" })).toBe(
      "entry 1 of wallet w1 is in another currency",
    );
  });

  it("refuses a non-positive amount", () => {
    expect(conflictOf(importing(), { ...entries[0], amount: 0n, balanceAfter: 0n })).toBe(
      "entry 1 of wallet w1 has a non-positive amount",
    );
  });

  it("refuses a running balance that is not the sum, or that goes negative", () => {
    expect(conflictOf(importing(), { ...entries[0], balanceAfter: 999n })).toBe(
      "entry 1 of wallet w1 has a wrong running balance",
    );
    const overdraft = { ...entries[0], type: "WITHDRAWAL" as const, balanceAfter: -1_000n };
    expect(conflictOf(importing(), overdraft)).toBe("entry 1 of wallet w1 has a wrong running balance");
  });

  it("refuses an entry older than the copy's last one", () => {
    const one = extendChain(importing(), entries[0]);
    if (!one.ok) throw new Error("refused");
    expect(conflictOf(one.value, { ...entries[1], createdAt: 999 })).toBe("entry 2 of wallet w1 goes back in time");
  });

  it("refuses an audit context that is not the one its digest was made of", () => {
    expect(conflictOf(importing(), { ...entries[0], context: { principal: "mallory" } })).toBe(
      "entry 1 of wallet w1 does not match its audit context",
    );
  });

  it("refuses an entry whose members were changed after it was hashed", () => {
    expect(conflictOf(importing(), { ...entries[0], reference: "added later" })).toBe(
      "entry 1 of wallet w1 does not match its hash",
    );
    expect(conflictOf(importing(), { ...entries[0], transactionId: "renamed" })).toBe(
      "entry 1 of wallet w1 does not match its hash",
    );
  });
});

describe("sameEntry", () => {
  const { entries } = sourceChain();

  it("is true for a member-by-member copy and false when a public member or the audit context differs", () => {
    expect(sameEntry(entries[0], structuredClone(entries[0]))).toBe(true);
    expect(sameEntry(entries[0], entries[1])).toBe(false);
    expect(sameEntry(entries[0], { ...entries[0], reference: "r" })).toBe(false);
    expect(sameEntry(entries[0], { ...entries[0], context: { principal: "someone else" } })).toBe(false);
  });
});

describe("reconcileTransfer: a copied transfer record against the stored one", () => {
  const outgoing: Transfer = {
    transferId: "tr1",
    fromWalletId: "w1",
    toWalletId: "w9",
    fromUserId: "alice",
    amount: 500n,
    currency: "USD",
    status: "PENDING",
    createdAt: 1_000,
    destinationCellId: "cell-b",
  };
  const credit: Transfer = {
    transferId: "tr1",
    fromWalletId: "w1",
    toWalletId: "w9",
    toUserId: "bob",
    amount: 500n,
    currency: "USD",
    status: "COMPLETED",
    createdAt: 1_100,
    completedAt: 1_200,
    sourceCellId: "cell-a",
  };

  it("leaves an identical record unchanged", () => {
    expect(reconcileTransfer(outgoing, { ...outgoing })).toEqual({ kind: "unchanged" });
  });

  it("takes the settled copy over a stored PENDING one, and keeps a settled stored one over a PENDING copy", () => {
    const settled: Transfer = { ...outgoing, status: "COMPLETED", completedAt: 2_000 };
    expect(reconcileTransfer(outgoing, settled)).toEqual({ kind: "replace", transfer: settled });
    expect(reconcileTransfer(settled, outgoing)).toEqual({ kind: "unchanged" });
  });

  it("fills members the stored record lacks from the copy", () => {
    const withoutUser: Transfer = { ...outgoing };
    delete withoutUser.fromUserId;
    expect(reconcileTransfer(withoutUser, outgoing)).toEqual({ kind: "replace", transfer: outgoing });
  });

  it.each([
    ["amount", { amount: 501n }],
    ["currency", { currency: "EUR" }],
    ["sender", { fromWalletId: "w2" }],
    ["receiver", { toWalletId: "w8" }],
  ] as const)("is a conflict when the two disagree on the %s", (_what, change) => {
    expect(reconcileTransfer(outgoing, { ...outgoing, ...change })).toEqual({
      kind: "conflict",
      detail: "transfer tr1 differs from the stored one",
    });
  });

  it("is a conflict when both settled, differently", () => {
    const failed: Transfer = { ...outgoing, status: "FAILED", completedAt: 3_000 };
    const completed: Transfer = { ...outgoing, status: "COMPLETED", completedAt: 3_000 };
    expect(reconcileTransfer(failed, completed)).toEqual({
      kind: "conflict",
      detail: "transfer tr1 settled differently in the two cells",
    });
  });

  it("merges the two sides of one cross-cell transfer: the sender's status stands, whichever is stored", () => {
    const merged = {
      ...outgoing,
      toUserId: "bob",
      sourceCellId: "cell-a",
      status: "PENDING",
    };
    expect(reconcileTransfer(credit, outgoing)).toEqual({
      kind: "replace",
      transfer: { ...merged, createdAt: credit.createdAt },
    });
    expect(reconcileTransfer(outgoing, credit)).toEqual({ kind: "replace", transfer: merged });
  });

  it("carries the sender's completion time when the sender's record settled", () => {
    const completedOut: Transfer = { ...outgoing, status: "COMPLETED", completedAt: 1_500 };
    const result = reconcileTransfer(credit, completedOut);
    expect(result.kind).toBe("replace");
    if (result.kind === "replace") expect(result.transfer).toMatchObject({ status: "COMPLETED", completedAt: 1_500 });
  });
});
