import { GENESIS_HASH } from "@cellwallet/contract";
import { describe, expect, it } from "vitest";
import { post } from "./ledger-entry.js";
import { transferWithinCell } from "./transfer.js";
import { openWallet } from "./wallet.js";

const ctx = { principal: "alice" };

describe("post", () => {
  const wallet = openWallet("w1", "alice", "USD", 1_000);

  it("appends the next sequence with the running balance, linked to the previous hash", () => {
    const first = post(wallet, { transactionId: "t1", type: "DEPOSIT", amount: 500n, context: ctx }, 2_000);
    if (!first.ok) throw new Error("refused");
    expect(first.value.entry).toMatchObject({
      sequence: 1,
      balanceAfter: 500n,
      prevHash: GENESIS_HASH,
      createdAt: 2_000,
    });
    expect(first.value.wallet).toMatchObject({
      balance: 500n,
      version: 1,
      headHash: first.value.entry.hash,
      lastEntryAt: 2_000,
    });
    const second = post(
      first.value.wallet,
      { transactionId: "t2", type: "WITHDRAWAL", amount: 200n, context: ctx },
      3_000,
    );
    if (!second.ok) throw new Error("refused");
    expect(second.value.entry).toMatchObject({ sequence: 2, balanceAfter: 300n, prevHash: first.value.entry.hash });
  });

  it("never lets an entry's time go backwards, even if the clock does", () => {
    const first = post(wallet, { transactionId: "t1", type: "DEPOSIT", amount: 1n, context: ctx }, 5_000);
    if (!first.ok) throw new Error("refused");
    const second = post(first.value.wallet, { transactionId: "t2", type: "DEPOSIT", amount: 1n, context: ctx }, 4_000);
    if (!second.ok) throw new Error("refused");
    expect(second.value.entry.createdAt).toBe(5_000);
  });

  it("refuses a debit beyond the balance", () => {
    const result = post(wallet, { transactionId: "t1", type: "WITHDRAWAL", amount: 1n, context: ctx }, 2_000);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.code).toBe("insufficient-funds");
  });
});

describe("transferWithinCell", () => {
  const funded = (() => {
    const r = post(
      openWallet("a", "alice", "USD", 0),
      { transactionId: "t0", type: "DEPOSIT", amount: 1000n, context: ctx },
      1,
    );
    if (!r.ok) throw new Error("refused");
    return r.value.wallet;
  })();
  const request = { transferId: "tr", outTransactionId: "o", inTransactionId: "i", amount: 400n, context: ctx };

  it("debits one wallet and credits the other by the same amount", () => {
    const moved = transferWithinCell(funded, openWallet("b", "bob", "USD", 0), request, 10);
    if (!moved.ok) throw new Error("refused");
    expect(moved.value.from.balance + moved.value.to.balance).toBe(funded.balance);
    expect(moved.value.entries.map((e) => e.type)).toEqual(["TRANSFER_OUT", "TRANSFER_IN"]);
    expect(moved.value.transfer).toMatchObject({
      status: "COMPLETED",
      amount: 400n,
      fromUserId: "alice",
      toUserId: "bob",
    });
  });

  it.each([
    ["same-wallet-transfer", () => funded],
    ["currency-mismatch", () => openWallet("j", "jo", "JPY", 0)],
  ])("refuses with %s", (code, target) => {
    const result = transferWithinCell(funded, target(), request, 10);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem.code).toBe(code);
  });

  it("refuses insufficient funds", () => {
    const result = transferWithinCell(funded, openWallet("b", "bob", "USD", 0), { ...request, amount: 1001n }, 10);
    expect(result.ok ? "ok" : result.problem.code).toBe("insufficient-funds");
  });
});
