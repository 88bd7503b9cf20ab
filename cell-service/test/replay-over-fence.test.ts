import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type InProcessCell, startInProcessCell } from "../../test-support/cell-server.js";
import { http } from "../../test-support/http.js";
import { ADAPTERS, openTestStore, type TestStore } from "../../test-support/stores.js";
import { token } from "../../test-support/tokens.js";
import type { LedgerStore } from "../src/application/ledger-store.js";

/**
 * A stored answer wins over a fence. The key's record is read with the wallet, before this process's
 * in-flight check, so it may be stale by the commit: when the commit then meets a fence (the wallet frozen
 * for a migration meanwhile), the key is checked again and its answer replayed. The race is made
 * deterministic by a store whose combined read never sees the record.
 */
function staleKeyReads(store: LedgerStore): LedgerStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === "getWalletAndIdempotency") {
        return async (walletId: string) => ({ wallet: await target.getWallet(walletId), idempotency: undefined });
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe.each(ADAPTERS)("a replay wins over a fence met at commit, on %s", (adapter) => {
  let store: TestStore;
  let fresh: InProcessCell;
  let stale: InProcessCell;
  let ops = "";

  beforeAll(async () => {
    store = await openTestStore(adapter, inject("motoEndpoint"));
    fresh = await startInProcessCell(store.store, { CELL_ID: store.cellId });
    stale = await startInProcessCell(staleKeyReads(store.store), { CELL_ID: store.cellId, AZ: "az-2" });
    ops = await token("ops", "wallet:operator");
  });

  afterAll(async () => {
    await fresh?.close();
    await stale?.close();
    await store?.store.close();
  });

  it("replays the stored 201 instead of answering 503, and applies nothing twice", async () => {
    const created = await http(fresh.url, "POST", "/api/v1/wallets", { token: ops, body: { userId: "dora" } });
    const walletId = created.body.walletId as string;
    const key = randomUUID();
    const deposit = (url: string) =>
      http(url, "POST", `/api/v1/wallets/${walletId}/deposit`, {
        token: ops,
        idempotencyKey: key,
        body: { amount: "5.00" },
      });
    const first = await deposit(fresh.url);
    expect(first.status).toBe(201);
    const frozen = await store.store.setWalletOwnership(
      walletId,
      { state: "active" },
      { state: "frozen", epoch: 1, migrationId: "m-test", peerCellId: "cell-elsewhere" },
    );
    expect(frozen).toBe(true);

    const retried = await deposit(stale.url);
    expect(retried.status).toBe(201);
    expect(retried.headers.get("idempotency-replayed")).toBe("true");
    expect(retried.body).toEqual(first.body);
    const wallet = await store.store.getWallet(walletId);
    expect(wallet?.balance).toBe(500n);
    expect(wallet?.version).toBe(1);

    // A new key on the frozen wallet is still refused with the fence's 503.
    const other = await http(stale.url, "POST", `/api/v1/wallets/${walletId}/deposit`, {
      token: ops,
      idempotencyKey: randomUUID(),
      body: { amount: "5.00" },
    });
    expect(other.status).toBe(503);
  });
});
