import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalPlatform } from "../../control-plane/src/local/local-platform.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { cellctl } from "./migration-support.js";
import { startTestPlatform } from "./platform.js";

/**
 * `cellctl cells rebalance`, `cells drain` and `cells retire` on a platform of
 * three cells (two AZs each) as processes: users move with their wallets
 * (and a user without a wallet moves too), balances and chains are intact, the
 * new owners take writes, and a drained cell is retired and no longer routed to.
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
    const described = await cellctl(["cells", "describe", "cell-1", "--json", "--sample-ms", "600"], env);
    busy = false;
    await burst;
    const load = JSON.parse(described.stdout).load;
    expect(load.users).toBe(7);
    expect(load.opsPerSecond).toBeGreaterThan(0);
    expect(Object.keys(load.byAz).sort()).toEqual(["az-1", "az-2"]);

    const plan = await cellctl(["cells", "rebalance", "--dry-run", "--json"], env);
    const planned = JSON.parse(plan.stdout);
    expect(planned.spreadBefore).toBe(70);
    expect(planned.moves.length).toBeGreaterThan(2);

    const rebalance = await cellctl(["cells", "rebalance", "--yes", "--json"], env);
    expect(rebalance.code, rebalance.stdout + rebalance.stderr).toBe(0);
    const done = JSON.parse(rebalance.stdout);
    // The run does exactly what the dry run showed.
    expect(done.moves).toEqual(planned.moves);
    expect(done.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    let now = await cells();
    const counts = ["cell-1", "cell-2", "cell-3"].map((c) => now[c]?.users ?? 0);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(7);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    await expectIntactAndWritable("after-rebalance");

    const inCell3 = now["cell-3"]?.users ?? 0;
    expect(inCell3).toBeGreaterThan(0);
    const drain = await cellctl(["cells", "drain", "cell-3", "--yes", "--json"], env);
    expect(drain.code, drain.stdout + drain.stderr).toBe(0);
    expect(JSON.parse(drain.stdout)).toMatchObject({ cellId: "cell-3", moved: inCell3, usersLeft: 0, unplaceable: [] });
    now = await cells();
    expect(now["cell-3"]).toMatchObject({ state: "draining", users: 0 });
    expect((now["cell-1"]?.users ?? 0) + (now["cell-2"]?.users ?? 0)).toBe(7);

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
