import { describe, expect, it } from "vitest";
import { activeAtFirstEpoch, FIRST_EPOCH, isOwned, type Ownership, writeFence } from "./ownership.js";
import { openWallet } from "./wallet.js";

describe("ownership of a wallet's copy", () => {
  it("a wallet opened here is active at the first epoch, with an empty chain", () => {
    expect(FIRST_EPOCH).toBe(1);
    expect(activeAtFirstEpoch()).toEqual({ state: "active", epoch: 1 });
    expect(openWallet("w", "u", "EUR", 42)).toMatchObject({
      balance: 0n,
      version: 0,
      lastEntryAt: 0,
      createdAt: 42,
      updatedAt: 42,
      ownership: { state: "active", epoch: 1 },
    });
  });

  it("counts active and frozen copies in the cell's totals, never moved, importing or abandoned ones", () => {
    expect(isOwned("active")).toBe(true);
    expect(isOwned("frozen")).toBe(true);
    expect(isOwned("moved")).toBe(false);
    expect(isOwned("importing")).toBe(false);
    expect(isOwned("abandoned")).toBe(false);
  });
});

describe("writeFence", () => {
  const at = (state: Ownership["state"], extra: Partial<Ownership> = {}): Ownership => ({ state, epoch: 3, ...extra });

  it("lets writes through to an active copy only", () => {
    expect(writeFence("w", at("active"))).toBeUndefined();
    expect(writeFence("w", at("active"), true)).toBeUndefined();
  });

  it("fences a frozen copy, unless the caller may write while frozen (the migration itself)", () => {
    expect(writeFence("w", at("frozen", { peerCellId: "cell-b" }))).toEqual({ state: "frozen", walletId: "w" });
    expect(writeFence("w", at("frozen"), true)).toBeUndefined();
  });

  it("fences a moved copy and says where the wallet went", () => {
    expect(writeFence("w", at("moved", { peerCellId: "cell-b", migrationId: "m1" }))).toEqual({
      state: "moved",
      walletId: "w",
      movedTo: "cell-b",
    });
    expect(writeFence("w", at("moved"), true)).toEqual({ state: "moved", walletId: "w" });
  });

  it.each(["importing", "abandoned"] as const)("fences an %s copy, whatever allowFrozen says", (state) => {
    for (const allowFrozen of [false, true]) {
      expect(writeFence("w", at(state, { peerCellId: "cell-a" }), allowFrozen)).toEqual({ state, walletId: "w" });
    }
  });
});
