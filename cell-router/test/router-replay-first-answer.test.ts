import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { LedgerStore } from "../../cell-service/src/application/ledger-store.js";
import { type InProcessCell, startInProcessCell } from "../../test-support/cell-server.js";
import { http } from "../../test-support/http.js";
import { secondReplicaStore } from "../../test-support/replica-store.js";
import { SlowCreditGate } from "../../test-support/slow-credit-gate.js";
import { ADAPTERS, openTestStore, type TestStore } from "../../test-support/stores.js";
import { token } from "../../test-support/tokens.js";
import { type RouterUnderTest, registerCell, startRouter, tempDir } from "./support.js";

/**
 * The scenario end to end through a real router: a cross-cell transfer whose credit is slow, the
 * router's attempt on the cell's first replica times out and it retries the keyed POST on the second replica,
 * which answers the stored 202; the first replica's credit is then confirmed. Every later replay must still
 * be that 202, byte for byte (before the fix it became 201 COMPLETED).
 */
describe.each(ADAPTERS)("a router retry during a slow credit, on %s", (adapter) => {
  let source: TestStore;
  let destination: TestStore;
  let replica2Store: LedgerStore;
  let replicas: InProcessCell[] = [];
  let cellB: InProcessCell;
  let gate: SlowCreditGate;
  let placement: SqlitePlacementStore;
  let router: RouterUnderTest;
  const wallets = { alice: "", bob: "" };
  let alice = "";

  beforeAll(async () => {
    const moto = inject("motoEndpoint");
    source = await openTestStore(adapter, moto);
    destination = await openTestStore(adapter, moto);
    replica2Store = secondReplicaStore(source, moto);
    cellB = await startInProcessCell(destination.store, { CELL_ID: "cell-b" });
    gate = new SlowCreditGate(() => cellB.url);
    const gateUrl = await gate.start();
    const env = { CELL_ID: "cell-a", ROUTER_INTERNAL_URL: gateUrl, CROSS_CELL_CREDIT_TIMEOUT_MS: "60000" };
    replicas = [
      await startInProcessCell(source.store, { ...env, AZ: "az-1" }),
      await startInProcessCell(replica2Store, { ...env, AZ: "az-2" }),
    ];
    placement = new SqlitePlacementStore({ path: `${tempDir()}/placement.sqlite` });
    await registerCell(placement, "cell-a", [
      { az: "az-1", url: replicas[0]?.url ?? "", weight: 1 },
      { az: "az-2", url: replicas[1]?.url ?? "", weight: 1 },
    ]);
    await registerCell(placement, "cell-b", [{ az: "az-1", url: cellB.url, weight: 1 }]);
    // 4 s per request, shared by the two replicas: the first attempt (held by the credit) times out after
    // about 2 s and leaves about 2 s for the second replica's replay.
    router = await startRouter(placement, { ROUTER_CELL_TIMEOUT_MS: "4000" });
    alice = await token("alice");
    const ops = await token("ops", "wallet:operator");
    const create = async (url: string, userId: string) =>
      (await http(url, "POST", "/api/v1/wallets", { token: ops, body: { userId } })).body.walletId as string;
    wallets.alice = await create(replicas[0]?.url ?? "", "alice");
    wallets.bob = await create(cellB.url, "bob");
    const funded = await http(replicas[0]?.url ?? "", "POST", `/api/v1/wallets/${wallets.alice}/deposit`, {
      token: ops,
      body: { amount: "100.00" },
    });
    expect(funded.status).toBe(201);
  });

  afterAll(async () => {
    await gate?.close();
    await router?.close();
    for (const replica of replicas) await replica.close();
    await cellB?.close();
    await placement?.close();
    await replica2Store?.close();
    await source?.store.close();
    await destination?.store.close();
  });

  it("answers the 202 the second replica replayed, and every replay stays that 202", async () => {
    const send = () =>
      http(router.url, "POST", "/api/v1/wallets/transfer", {
        token: alice,
        idempotencyKey: "router-retry-1",
        body: { fromWalletId: wallets.alice, toWalletId: wallets.bob, amount: "30.00" },
      });
    gate.hold();
    const answered = await send(); // replica 1 holds it at the credit; the router retries on replica 2
    expect([answered.status, answered.body.status], answered.text).toEqual([202, "PENDING"]);
    expect(answered.headers.get("idempotency-replayed")).toBe("true");
    expect(gate.arrived).toBe(1); // the second replica asked no credit: it answered from the stored record

    gate.release();
    // The first replica's credit is confirmed now: the transfer completes, its stored answer does not change.
    const transferId = answered.body.transferId as string;
    // Polled until a deadline, not 100 times: a loaded machine can take longer than 100 quick polls.
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      const seen = await http(router.url, "GET", `/api/v1/transfers/${transferId}`, { token: alice });
      if (seen.body.status === "COMPLETED") break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const replay = await send();
    expect([replay.status, replay.text]).toEqual([202, answered.text]);
    const final = await http(router.url, "GET", `/api/v1/transfers/${transferId}`, { token: alice });
    expect(final.body.status).toBe("COMPLETED");
    const bob = await http(cellB.url, "GET", `/api/v1/wallets/${wallets.bob}`, { token: await token("bob") });
    expect(bob.body.balance).toBe("30.00");
  }, 60_000);
});
