import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { cellctl } from "./migration-support.js";
import { startTestPlatform } from "./platform.js";

/**
 * `cellctl cells rebalance`, `cells drain` and `cells retire` on a platform of
 * three cells (two AZs each) as processes: users move with their wallets
 * (and a user without a wallet moves too), balances and chains are intact, the
 * new owners take writes, and a drained cell is retired and no longer routed to. Before that, a migration
 * whose pending cross-cell transfers cannot settle (their destination cell is down) rolls back by itself.
 */
describe("rebalancing, draining and retiring cells", () => {
  let platform: LocalPlatform;
  let env: Record<string, string>;
  let ops: string;
  let api: string;
  const wallets = new Map<string, string>();
  const USERS = Array.from({ length: 6 }, (_, i) => `dr-${i}`);

  beforeAll(async () => {
    platform = await startTestPlatform({ cells: 3, azs: ["az-1", "az-2"], capacity: 10 });
    env = { PLACEMENT_SQLITE_PATH: platform.placementPath, CELLCTL_OPERATOR: "e2e" };
    ops = await token("ops", "wallet:operator");
    api = platform.routerUrl("az-1");
    const store = platform.openPlacementStore();
    for (const u of USERS) await store.setOverride(u, "cell-1");
    // Placed, never created a wallet: moved with a user-level fence in the source.
    await store.placeUser("dr-nowallet", "cell-1", "override");
    await store.close();
    for (const u of USERS) {
      const created = await http(api, "POST", "/api/v1/wallets", { token: ops, body: { userId: u } });
      expect(created.status).toBe(201);
      wallets.set(u, created.body.walletId);
      const d = await http(api, "POST", `/api/v1/wallets/${created.body.walletId}/deposit`, {
        token: ops,
        idempotencyKey: `${u}-seed`,
        body: { amount: "10.00" },
      });
      expect(d.status).toBe(201);
    }
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
  });

  const cells = async () => {
    const run = await cellctl(["cells", "list", "--json"], env);
    return Object.fromEntries(
      (JSON.parse(run.stdout).cells as { cellId: string; users: number; state: string }[]).map((c) => [c.cellId, c]),
    );
  };

  async function expectIntactAndWritable(round: string) {
    for (const u of USERS) {
      const walletId = wallets.get(u) as string;
      const wallet = await http(api, "GET", `/api/v1/wallets/${walletId}`, { token: ops });
      expect(wallet.status, `${u}: ${wallet.text}`).toBe(200);
      const audit = await http(api, "GET", `/api/v1/wallets/${walletId}/audit`, { token: ops });
      expect(audit.body.valid).toBe(true);
      const d = await http(api, "POST", `/api/v1/wallets/${walletId}/deposit`, {
        token: ops,
        idempotencyKey: `${u}-${round}`,
        body: { amount: "1.00" },
      });
      expect(d.status, `${u}: ${d.text}`).toBe(201);
    }
  }

  it("rolls a migration back by itself when the user's pending transfers cannot settle, and moves it later", async () => {
    const store = platform.openPlacementStore();
    await store.setOverride("st-mover", "cell-1");
    await store.setOverride("st-dest", "cell-3");
    await store.close();
    const mover = await http(api, "POST", "/api/v1/wallets", { token: ops, body: { userId: "st-mover" } });
    const dest = await http(api, "POST", "/api/v1/wallets", { token: ops, body: { userId: "st-dest" } });
    expect([mover.status, dest.status]).toEqual([201, 201]);
    await http(api, "POST", `/api/v1/wallets/${mover.body.walletId}/deposit`, {
      token: ops,
      body: { amount: "10.00" },
    });
    // The destination's cell is down: the transfer is debited and stays PENDING.
    const cell3 = platform.processes.filter((p) => p.cellId === "cell-3");
    await Promise.all(cell3.map((p) => platform.stopProcess(p)));
    const sent = await http(api, "POST", "/api/v1/wallets/transfer", {
      token: await token("st-mover"),
      idempotencyKey: "st-1",
      body: { fromWalletId: mover.body.walletId, toWalletId: dest.body.walletId, amount: "2.00" },
    });
    expect(sent.status).toBe(202);

    const refused = await cellctl(["users", "migrate", "st-mover", "--to", "cell-2", "--yes", "--json"], {
      ...env,
      CELLCTL_SETTLE_TIMEOUT_MS: "1000",
    });
    expect(refused.code, refused.stdout + refused.stderr).toBe(1);
    const outcome = JSON.parse(refused.stdout);
    expect(outcome.migration).toMatchObject({ state: "rolled-back", step: "frozen" });
    expect(outcome.reason).toMatch(/did not settle in time/);
    // Back in its cell and writable.
    const after = await http(api, "POST", `/api/v1/wallets/${mover.body.walletId}/deposit`, {
      token: ops,
      idempotencyKey: "st-after",
      body: { amount: "1.00" },
    });
    expect(after.status, after.text).toBe(201);
    expect(after.body.balanceAfter).toBe("9.00");

    // The destination returns, the transfer completes; now the move succeeds.
    await Promise.all(cell3.map((p) => platform.startProcess(p)));
    // The settle step waits for the sender's worker to retry the credit: seconds on a loaded machine, so a minute
    // to settle (the default 10 s is an operator's choice, not what this test is about).
    const moved = await cellctl(["users", "migrate", "st-mover", "--to", "cell-2", "--yes", "--json"], {
      ...env,
      CELLCTL_SETTLE_TIMEOUT_MS: "60000",
    });
    expect(moved.code, moved.stdout + moved.stderr).toBe(0);
    const transfer = await http(api, "GET", `/api/v1/transfers/${sent.body.transferId}`, { token: ops });
    expect(transfer.body.status).toBe("COMPLETED");
    expect((await http(api, "GET", `/api/v1/wallets/${dest.body.walletId}`, { token: ops })).body.balance).toBe("2.00");
    expect((await http(api, "GET", `/api/v1/wallets/${mover.body.walletId}`, { token: ops })).body.balance).toBe(
      "9.00",
    );
  }, 120_000);

  it("rebalances, drains and retires with every wallet intact and writable", async () => {
    // cells describe shows the cell's current load: wallet operations per second from the replicas' /metrics.
    let busy = true;
    const burst = (async () => {
      for (let i = 0; busy; i++) {
        const walletId = wallets.get(USERS[i % USERS.length] as string) as string;
        await http(api, "GET", `/api/v1/wallets/${walletId}`, { token: ops });
        await http(api, "POST", `/api/v1/wallets/${walletId}/deposit`, { token: ops, body: { amount: "0.01" } });
      }
    })();
    // A window of seconds, not 600 ms: the rate is measured between two reads of the replicas' /metrics, and a
    // stall of this test's process (which sends the burst) for the whole window would read as no load at all.
    const described = await cellctl(["cells", "describe", "cell-1", "--json", "--sample-ms", "5000"], env);
    busy = false;
    await burst;
    const load = JSON.parse(described.stdout).load;
    expect(load.users).toBe(7); // the 6 users with wallets and the wallet-less one
    expect(load.opsPerSecond).toBeGreaterThan(0);
    expect(Object.keys(load.byAz).sort()).toEqual(["az-1", "az-2"]);

    const plan = await cellctl(["cells", "rebalance", "--dry-run", "--json"], env);
    const planned = JSON.parse(plan.stdout);
    const total = Object.values(await cells()).reduce((sum, c) => sum + c.users, 0);
    // cell-1 holds 7 of 10; the first test left one user in each of the other cells.
    expect(planned.spreadBefore).toBe(60);
    expect(planned.moves.length).toBeGreaterThan(2);

    const rebalance = await cellctl(["cells", "rebalance", "--yes", "--json"], env);
    expect(rebalance.code, rebalance.stdout + rebalance.stderr).toBe(0);
    const done = JSON.parse(rebalance.stdout);
    // The run does exactly what the dry run showed.
    expect(done.moves).toEqual(planned.moves);
    expect(done.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    let now = await cells();
    const counts = ["cell-1", "cell-2", "cell-3"].map((c) => now[c]?.users ?? 0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    await expectIntactAndWritable("after-rebalance");

    const inCell3 = now["cell-3"]?.users ?? 0;
    expect(inCell3).toBeGreaterThan(0);
    const drain = await cellctl(["cells", "drain", "cell-3", "--yes", "--json"], env);
    expect(drain.code, drain.stdout + drain.stderr).toBe(0);
    expect(JSON.parse(drain.stdout)).toMatchObject({ cellId: "cell-3", moved: inCell3, usersLeft: 0, unplaceable: [] });
    now = await cells();
    expect(now["cell-3"]).toMatchObject({ state: "draining", users: 0 });
    expect((now["cell-1"]?.users ?? 0) + (now["cell-2"]?.users ?? 0)).toBe(total);

    const retire = await cellctl(["cells", "retire", "cell-3", "--yes"], env);
    expect(retire.code, retire.stderr).toBe(0);
    expect((await cells())["cell-3"]?.state).toBe("retired");
    await expectIntactAndWritable("after-drain");
    for (const u of USERS) {
      const located = JSON.parse((await cellctl(["users", "locate", u, "--json"], env)).stdout);
      expect(["cell-1", "cell-2"]).toContain(located.placement.cellId);
      expect(located.wallet).toMatchObject({ state: "active" });
      expect(Number(located.wallet.balance)).toBeGreaterThanOrEqual(12);
    }
    // A user without a wallet moves too: the source keeps a user-level fence, the target takes the wallet.
    const before = JSON.parse((await cellctl(["users", "locate", "dr-nowallet", "--json"], env)).stdout);
    const from = before.placement.cellId as string;
    const to = from === "cell-1" ? "cell-2" : "cell-1";
    const moved = await cellctl(["users", "migrate", "dr-nowallet", "--to", to, "--yes", "--json"], env);
    expect(moved.code, moved.stdout + moved.stderr).toBe(0);
    const fromReplica = platform.processes.find((p) => p.cellId === from && p.az === "az-1");
    const stale = await http(`http://127.0.0.1:${fromReplica?.port}`, "POST", "/api/v1/wallets", {
      token: ops,
      body: { userId: "dr-nowallet" },
    });
    expect(stale.status, stale.text).toBe(503);
    const created = await http(api, "POST", "/api/v1/wallets", { token: ops, body: { userId: "dr-nowallet" } });
    expect(created.status, created.text).toBe(201);
    expect(created.body.walletId.endsWith(`-${to}`)).toBe(true);
    const log = (JSON.parse((await cellctl(["audit-log", "--json"], env)).stdout).records as { action: string }[]).map(
      (r) => r.action,
    );
    for (const action of ["cell.rebalance", "cell.drain", "cell.retire", "user.migrate", "user.migrate.result"]) {
      expect(log).toContain(action);
    }
  }, 120_000);
});
