import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { LedgerStore } from "../../cell-service/src/application/ledger-store.js";
import { type InProcessCell, startInProcessCell } from "../../test-support/cell-server.js";
import { http } from "../../test-support/http.js";
import { secondReplicaStore } from "../../test-support/replica-store.js";
import { SlowCreditGate } from "../../test-support/slow-credit-gate.js";
import { ADAPTERS, openTestStore, type TestStore } from "../../test-support/stores.js";
import { token } from "../../test-support/tokens.js";

/**
 * The stored answer of an idempotent cross-cell transfer is the first answer a client could have seen, and
 * never changes: a router retry that reaches a second replica while the first still waits for the credit
 * replays the 202, and from then on the 202 is the answer of every attempt and replay, even though the
 * first replica's credit is confirmed in time afterwards.
 */
describe.each(ADAPTERS)("the first answer of a cross-cell transfer stays the answer, on %s", (adapter) => {
  let source: TestStore;
  let destination: TestStore;
  let replica2Store: LedgerStore;
  let replica1: InProcessCell;
  let replica2: InProcessCell;
  let cellB: InProcessCell;
  let gate: SlowCreditGate;
  const tokens = { alice: "", ops: "" };
  const wallets = { alice: "", bob: "" };

  beforeAll(async () => {
    const moto = inject("motoEndpoint");
    source = await openTestStore(adapter, moto);
    destination = await openTestStore(adapter, moto);
    replica2Store = secondReplicaStore(source, moto);
    cellB = await startInProcessCell(destination.store, { CELL_ID: "cell-b" });
    gate = new SlowCreditGate(() => cellB.url);
    const gateUrl = await gate.start();
    // A credit timeout far above the test's hold: the first replica waits for the slow credit's real answer.
    const env = { CELL_ID: "cell-a", ROUTER_INTERNAL_URL: gateUrl, CROSS_CELL_CREDIT_TIMEOUT_MS: "60000" };
    replica1 = await startInProcessCell(source.store, { ...env, AZ: "az-1" });
    replica2 = await startInProcessCell(replica2Store, { ...env, AZ: "az-2" });
    tokens.alice = await token("alice");
    tokens.ops = await token("ops", "wallet:operator");
    const create = async (url: string, userId: string) =>
      (await http(url, "POST", "/api/v1/wallets", { token: tokens.ops, body: { userId } })).body.walletId as string;
    wallets.alice = await create(replica1.url, "alice");
    wallets.bob = await create(cellB.url, "bob");
    const funded = await http(replica1.url, "POST", `/api/v1/wallets/${wallets.alice}/deposit`, {
      token: tokens.ops,
      body: { amount: "100.00" },
    });
    expect(funded.status).toBe(201);
  });

  afterAll(async () => {
    await gate?.close();
    await replica1?.close();
    await replica2?.close();
    await cellB?.close();
    await replica2Store?.close();
    await source?.store.close();
    await destination?.store.close();
  });

  const transfer = (url: string, key: string, amount: string) =>
    http(url, "POST", "/api/v1/wallets/transfer", {
      token: tokens.alice,
      idempotencyKey: key,
      body: { fromWalletId: wallets.alice, toWalletId: wallets.bob, amount },
    });
  const balance = async (url: string, walletId: string) =>
    (await http(url, "GET", `/api/v1/wallets/${walletId}`, { token: tokens.ops })).body.balance as string;

  it("replays the 202 seen by a retry on another replica, even after the slow credit is confirmed", async () => {
    gate.hold();
    const arrivedBefore = gate.arrived;
    const first = transfer(replica1.url, "slow-1", "30.00");
    await gate.arrivals(arrivedBefore + 1); // replica 1 has committed the debit and is waiting for the credit

    const retried = await transfer(replica2.url, "slow-1", "30.00");
    expect(retried.status).toBe(202);
    expect(retried.body.status).toBe("PENDING");
    expect(retried.headers.get("idempotency-replayed")).toBe("true");

    gate.release();
    const answered = await first;
    // The credit was confirmed in time, but a client may already hold the 202: the 202 is the answer.
    expect(answered.status).toBe(202);
    expect(answered.text).toBe(retried.text);
    expect(answered.headers.get("location")).toBe(retried.headers.get("location"));

    for (const url of [replica1.url, replica2.url]) {
      const replay = await transfer(url, "slow-1", "30.00");
      expect([replay.status, replay.text]).toEqual([202, retried.text]);
      expect(replay.headers.get("idempotency-replayed")).toBe("true");
    }
    // The money moved once, and the transfer itself is final: clients poll it for the outcome.
    const transferId = retried.body.transferId as string;
    const now = await http(replica1.url, "GET", `/api/v1/transfers/${transferId}`, { token: tokens.alice });
    expect(now.body.status).toBe("COMPLETED");
    expect(await balance(replica1.url, wallets.alice)).toBe("70.00");
    expect(await balance(cellB.url, wallets.bob)).toBe("30.00");
  });

  it("answers 201 when nobody saw the 202, and every replay is that 201", async () => {
    gate.release();
    const answered = await transfer(replica1.url, "fast-1", "5.00");
    expect(answered.status).toBe(201);
    expect(answered.body.status).toBe("COMPLETED");
    for (const url of [replica2.url, replica1.url]) {
      const replay = await transfer(url, "fast-1", "5.00");
      expect([replay.status, replay.text]).toEqual([201, answered.text]);
    }
    expect(await balance(cellB.url, wallets.bob)).toBe("35.00");
  });

  it("tells a concurrent attempt on the same replica to wait, and the replay on another replica fixes the 202", async () => {
    gate.hold();
    const arrivedBefore = gate.arrived;
    const first = transfer(replica1.url, "slow-2", "1.00");
    await gate.arrivals(arrivedBefore + 1);
    // A concurrent attempt on the same replica is refused while the first runs; another replica replays.
    const concurrent = await transfer(replica1.url, "slow-2", "1.00");
    expect([concurrent.status, concurrent.body.code]).toEqual([409, "idempotency-in-progress"]);
    const retried = await transfer(replica2.url, "slow-2", "1.00");
    expect(retried.status).toBe(202);
    gate.release();
    expect((await first).text).toBe(retried.text);
    const replay = await transfer(replica2.url, "slow-2", "1.00");
    expect([replay.status, replay.text]).toEqual([202, retried.text]);
    expect(await balance(cellB.url, wallets.bob)).toBe("36.00");
  });
});
