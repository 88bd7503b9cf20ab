import { describe, expect, it } from "vitest";
import { post } from "./ledger-entry.js";
import { checkTransferable, type TransferRequest, transferWithinCell } from "./transfer.js";
import { openWallet, type Wallet } from "./wallet.js";

const context = { principal: "alice", idempotencyKey: "k1" };

function funded(walletId: string, userId: string, currency: string, amount: bigint, at = 1_000): Wallet {
  const result = post(
    openWallet(walletId, userId, currency, 0),
    { transactionId: `seed-${walletId}`, type: "DEPOSIT", amount, context },
    at,
  );
  if (!result.ok) throw new Error("refused");
  return result.value.wallet;
}

const request = (amount: bigint, extra: Partial<TransferRequest> = {}): TransferRequest => ({
  transferId: "tr1",
  outTransactionId: "out1",
  inTransactionId: "in1",
  amount,
  context,
  ...extra,
});

describe("checkTransferable", () => {
  it("refuses a transfer to the same wallet and allows any two different ones", () => {
    const same = checkTransferable("w1", "w1");
    expect(same.ok ? "ok" : same.problem.code).toBe("same-wallet-transfer");
    expect(checkTransferable("w1", "w2").ok).toBe(true);
  });
});

describe("transferWithinCell", () => {
  const alice = funded("a", "alice", "USD", 1_000n);
  const bob = funded("b", "bob", "USD", 50n);

  it("moves the amount from one wallet to the other and conserves the money", () => {
    const moved = transferWithinCell(alice, bob, request(400n), 2_000);
    if (!moved.ok) throw new Error(moved.problem.code);
    const { from, to, entries } = moved.value;
    expect(from.balance).toBe(600n);
    expect(to.balance).toBe(450n);
    expect(from.balance + to.balance).toBe(alice.balance + bob.balance);
    expect([from.version, to.version]).toEqual([alice.version + 1, bob.version + 1]);
    expect([from.headHash, to.headHash]).toEqual([entries[0].hash, entries[1].hash]);
  });

  it("writes a TRANSFER_OUT on the sender and a TRANSFER_IN on the receiver, each naming the other", () => {
    const moved = transferWithinCell(alice, bob, request(400n, { reference: "rent" }), 2_000);
    if (!moved.ok) throw new Error(moved.problem.code);
    const [debit, credit] = moved.value.entries;
    expect(debit).toMatchObject({
      walletId: "a",
      type: "TRANSFER_OUT",
      transactionId: "out1",
      transferId: "tr1",
      counterpartyWalletId: "b",
      amount: 400n,
      balanceAfter: 600n,
      reference: "rent",
      prevHash: alice.headHash,
      context,
    });
    expect(credit).toMatchObject({
      walletId: "b",
      type: "TRANSFER_IN",
      transactionId: "in1",
      transferId: "tr1",
      counterpartyWalletId: "a",
      amount: 400n,
      balanceAfter: 450n,
      reference: "rent",
      prevHash: bob.headHash,
      context,
    });
  });

  it("records a COMPLETED transfer carrying both owners, and no cross-cell members", () => {
    const moved = transferWithinCell(alice, bob, request(400n, { reference: "rent" }), 2_000);
    if (!moved.ok) throw new Error(moved.problem.code);
    expect(moved.value.transfer).toEqual({
      transferId: "tr1",
      fromWalletId: "a",
      toWalletId: "b",
      fromUserId: "alice",
      toUserId: "bob",
      amount: 400n,
      currency: "USD",
      status: "COMPLETED",
      createdAt: 2_000,
      completedAt: 2_000,
      reference: "rent",
    });
    const plain = transferWithinCell(alice, bob, request(1n), 2_000);
    expect(plain.ok && "reference" in plain.value.transfer).toBe(false);
  });

  it("completes at the later of the two entries' times when the receiver's last entry is in the future", () => {
    const late = funded("c", "carol", "USD", 1n, 5_000);
    const moved = transferWithinCell(alice, late, request(1n), 2_000);
    if (!moved.ok) throw new Error(moved.problem.code);
    expect(moved.value.entries.map((e) => e.createdAt)).toEqual([2_000, 5_000]);
    expect(moved.value.transfer).toMatchObject({ createdAt: 2_000, completedAt: 5_000 });
  });

  it("moves the whole balance, and refuses one minor unit more with insufficient-funds", () => {
    const all = transferWithinCell(alice, bob, request(1_000n), 2_000);
    expect(all.ok && all.value.from.balance).toBe(0n);
    const more = transferWithinCell(alice, bob, request(1_001n), 2_000);
    expect(more.ok ? "ok" : more.problem.code).toBe("insufficient-funds");
  });

  it("refuses another currency with currency-mismatch, even when the funds would not suffice", () => {
    const yen = funded("y", "yuki", "JPY", 10n);
    const result = transferWithinCell(alice, yen, request(5_000n), 2_000);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem.code).toBe("currency-mismatch");
    expect(result.problem.detail).toBe("cannot transfer USD from a to y, which holds JPY");
  });

  it("checks the same wallet before the currency and the funds", () => {
    const result = transferWithinCell(alice, alice, request(5_000n), 2_000);
    expect(result.ok ? "ok" : result.problem.code).toBe("same-wallet-transfer");
  });

  it("changes neither input wallet, whether it moves money or refuses", () => {
    const before = [structuredClone(alice), structuredClone(bob)];
    transferWithinCell(alice, bob, request(400n), 2_000);
    transferWithinCell(alice, bob, request(9_999n), 2_000);
    expect([alice, bob]).toEqual(before);
  });
});
