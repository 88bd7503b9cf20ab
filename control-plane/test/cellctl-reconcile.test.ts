/**
 * `cellctl reconcile` as operators run it (a real cellctl process, a real
 * registry, real cells over HTTP), and the platform arithmetic it applies.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type InProcessCell, startInProcessCell } from "../../test-support/cell-server.js";
import { runCellctl } from "../../test-support/cellctl.js";
import { crossCellIn, crossCellOut, seedWallet } from "../../test-support/ledger-fixtures.js";
import { openTestStore, type TestStore } from "../../test-support/stores.js";
import { openTamperer } from "../../test-support/tamper.js";
import { type CellReconciliation, reconcilePlatform } from "../src/reconcile/platform-reconciliation.js";

const cellctl = runCellctl;

describe("reconcilePlatform (pure)", () => {
  const cell = (cellId: string, usd: Record<string, string>, pending: CellReconciliation["pendingOutgoing"] = []) => ({
    cellId,
    valid: true,
    currencies: { USD: usd },
    mismatches: [],
    pendingOutgoing: pending,
    pendingCount: pending.length,
  });
  const a = cell("a", { balances: "700", deposits: "1000", withdrawals: "0", crossOutCompleted: "200", crossIn: "0" }, [
    { transferId: "t1", destinationCellId: "b", currency: "USD", amount: "100" },
  ]);
  const b = cell("b", { balances: "200", deposits: "0", withdrawals: "0", crossOutCompleted: "0", crossIn: "200" });

  it("balances = deposits − withdrawals − money in transit; credited pending transfers are not in transit", () => {
    const notYet = reconcilePlatform([a, b], new Map([["t1", false]]), true);
    expect(notYet.valid).toBe(true);
    expect(notYet.currencies.USD).toMatchObject({ balances: "900", deposits: "1000", inTransit: "100" });
    // Credited at b but still PENDING at a: b's balance and crossIn include it.
    const b2 = cell("b", { balances: "300", deposits: "0", withdrawals: "0", crossOutCompleted: "0", crossIn: "300" });
    const landed = reconcilePlatform([a, b2], new Map([["t1", true]]), true);
    expect(landed.valid).toBe(true);
    expect(landed.currencies.USD).toMatchObject({ inTransit: "0", creditedPending: "100" });
  });

  it("a transfer completed at its source but never credited, or money from nowhere, is a mismatch", () => {
    const lost = cell("b", { balances: "0", deposits: "0", withdrawals: "0", crossOutCompleted: "0", crossIn: "0" });
    const report = reconcilePlatform([a, lost], new Map([["t1", false]]), true);
    expect(report.valid).toBe(false);
    expect(report.mismatches).toEqual([
      { scope: "platform", currency: "USD", check: "platform", expected: "900", actual: "700" },
      { scope: "platform", currency: "USD", check: "cross-cell", expected: "200", actual: "0" },
    ]);
    // Incomplete input (a cell missing): platform identities are not asserted.
    expect(reconcilePlatform([a], new Map(), false).valid).toBe(true);
  });
});

describe("cellctl reconcile", () => {
  let cellA: TestStore;
  let cellB: TestStore;
  const servers: InProcessCell[] = [];
  let env: Record<string, string>;
  let bobId: string;

  beforeAll(async () => {
    const motoEndpoint = inject("motoEndpoint");
    cellA = await openTestStore("sqlite", motoEndpoint);
    cellB = await openTestStore("sqlite", motoEndpoint);
    const alice = await seedWallet(cellA.store, [1000n]);
    const bob = await seedWallet(cellB.store, [50n]);
    bobId = bob.walletId;
    const toBob = { walletId: bob.walletId, cellId: cellB.cellId };
    const creditedPending = await crossCellOut(cellA.store, alice, toBob, 300n);
    await crossCellIn(cellB.store, creditedPending, cellA.cellId);
    await crossCellOut(cellA.store, alice, toBob, 100n); // in transit: not credited yet
    const completed = await crossCellOut(cellA.store, alice, toBob, 200n, "COMPLETED");
    await crossCellIn(cellB.store, completed, cellA.cellId);

    const placementPath = join(mkdtempSync(join(tmpdir(), "cellwallet-reconcile-")), "placement.sqlite");
    const placement = new SqlitePlacementStore({ path: placementPath });
    for (const s of [cellA, cellB]) {
      const server = await startInProcessCell(s.store, { CELL_ID: s.cellId });
      servers.push(server);
      await placement.putCell({
        cellId: s.cellId,
        state: "active",
        capacity: 10,
        endpoints: [{ az: "az-1", url: server.url, weight: 1 }],
      });
    }
    await placement.close();
    env = { PLACEMENT_SQLITE_PATH: placementPath };
  });

  afterAll(async () => {
    for (const s of servers) await s.close();
    await cellA.store.close();
    await cellB.store.close();
  });

  it("reconciles every cell and the platform, with the uncredited transfer in transit (exit 0)", async () => {
    const run = await cellctl(["reconcile", "--all"], env);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/RECONCILED/);
    // Σ balances 950 = deposits 1050 − withdrawals 0 − in transit 100.
    expect(run.stdout).toMatch(/PLATFORM\s+USD\s+950\s+1050\s+0\s+100/);
    const json = JSON.parse((await cellctl(["reconcile", "--all", "--json"], env)).stdout);
    expect(json.valid).toBe(true);
    expect(json.platform.currencies.USD).toMatchObject({ inTransit: "100", creditedPending: "300", crossIn: "500" });
    const one = await cellctl(["reconcile", "--cell", cellA.cellId], env);
    expect(one.code, one.stdout).toBe(0);
  });

  it("a planted mismatch exits 1 and names the cell and the check", async () => {
    const attacker = openTamperer(cellB, inject("motoEndpoint"));
    await attacker.changeWalletBalance(bobId, 5n);
    await attacker.close();
    const run = await cellctl(["reconcile", "--all"], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/MISMATCH/);
    expect(run.stdout).toContain(`${cellB.cellId} USD ledger: expected 550, found 555`);
    expect(run.stdout).toContain("platform USD platform: expected 950, found 955");
    const one = await cellctl(["reconcile", "--cell", cellB.cellId, "--json"], env);
    expect(one.code).toBe(1);
    expect(JSON.parse(one.stdout).valid).toBe(false);
  });
});
