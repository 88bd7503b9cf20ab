import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type InProcessCell, startInProcessCell } from "../../../test-support/cell-server.js";
import { http } from "../../../test-support/http.js";
import { ADAPTERS, openTestStore, type TestStore } from "../../../test-support/stores.js";
import { token } from "../../../test-support/tokens.js";
import type { CommitRequest, LedgerStore } from "../../src/application/ledger-store.js";

/**
 * A same-cell transfer whose destination moves to another cell between the use
 * case's first read and its commit: the commit is fenced and nothing is applied.
 * The answer must not carry Wallet-Location, because the router re-forwards the
 * request to the cell that header names, and this request belongs to the
 * sender's cell (re-forwarded, it would end as a definitive 404 there).
 */
describe.each(ADAPTERS)("a transfer whose destination moves away mid-request (%s)", (adapter) => {
  let test: TestStore;
  let cell: InProcessCell;
  let ops: string;
  let alice: string;
  const wallets = { alice: "", bob: "" };
  let moveBobBeforeNextCommit = false;

  /** The real store; the one hook moves bob's wallet away just before the next commit that touches it. */
  function movingStore(store: LedgerStore): LedgerStore {
    return new Proxy(store, {
      get(target, prop) {
        if (prop === "commit") {
          return async (request: CommitRequest<unknown>) => {
            if (moveBobBeforeNextCommit && request.walletIds.includes(wallets.bob)) {
              moveBobBeforeNextCommit = false;
              const moved = await target.setWalletOwnership(
                wallets.bob,
                { state: "active" },
                { state: "moved", epoch: 2, migrationId: "m-race", peerCellId: "cell-elsewhere" },
              );
              expect(moved).toBe(true);
            }
            return target.commit(request);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }

  beforeAll(async () => {
    test = await openTestStore(adapter, inject("motoEndpoint"));
    cell = await startInProcessCell(movingStore(test.store), { CELL_ID: test.cellId });
    ops = await token("ops-1", "wallet:operator");
    alice = await token("alice");
    for (const userId of ["alice", "bob"] as const) {
      const created = await http(cell.url, "POST", "/api/v1/wallets", { token: ops, body: { userId } });
      expect(created.status, created.text).toBe(201);
      wallets[userId] = created.body.walletId as string;
    }
    const deposit = await http(cell.url, "POST", `/api/v1/wallets/${wallets.alice}/deposit`, {
      token: ops,
      body: { amount: "10.00" },
    });
    expect(deposit.status, deposit.text).toBe(201);
  });

  afterAll(async () => {
    await cell?.close();
    await test?.store.close();
  });

  it("answers a plain 503 with Retry-After, applies nothing, and names no Wallet-Location", async () => {
    moveBobBeforeNextCommit = true;
    const transfer = await http(cell.url, "POST", "/api/v1/wallets/transfer", {
      token: alice,
      idempotencyKey: "race-1",
      body: { fromWalletId: wallets.alice, toWalletId: wallets.bob, amount: "4.00" },
    });
    expect(moveBobBeforeNextCommit).toBe(false);
    expect(transfer.status, transfer.text).toBe(503);
    expect(transfer.body.code).toBe("cell-unavailable");
    expect(transfer.headers.get("retry-after")).toBe("1");
    expect(transfer.headers.get("wallet-location")).toBeNull();
    const after = await http(cell.url, "GET", `/api/v1/wallets/${wallets.alice}`, { token: alice });
    expect(after.body).toMatchObject({ balance: "10.00", version: 1 });
  });

  it("still names Wallet-Location when the request's own wallet moved (the router follows it)", async () => {
    const deposit = await http(cell.url, "POST", `/api/v1/wallets/${wallets.bob}/deposit`, {
      token: ops,
      idempotencyKey: "bob-after-move",
      body: { amount: "1.00" },
    });
    expect(deposit.status, deposit.text).toBe(503);
    expect(deposit.headers.get("wallet-location")).toBe("cell-elsewhere");
  });
});
