import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CellctlRun, runCellctl } from "../../test-support/cellctl.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { startTestPlatform, TEST_PLATFORM_ENV } from "./platform.js";

const REFRESH_MS = 200;

function cellctl(args: string[], placementPath: string): Promise<CellctlRun> {
  return runCellctl(args, { PLACEMENT_SQLITE_PATH: placementPath });
}

/** API requests a cell replica has served (probes and scrapes excluded), from its /metrics. */
async function servedRequests(platform: LocalPlatform, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${platform.find(name).port}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith("cellwallet_http_requests_total{")) continue;
    if (/route="\/(metrics|health|ready)"/.test(line)) continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Until the router's registry (its /metrics) gives az-1's replicas of both cells this weight: a fixed two refresh
 * periods was enough only while a loaded machine did not stall the router process for longer.
 */
async function routerSeesAz1Weight(routerUrl: string, weight: number): Promise<void> {
  const line = (cell: string) =>
    new RegExp(`^cellwallet_router_cell_az_weight\\{[^}]*cell="${cell}",cell_az="az-1"[^}]*\\} ${weight}$`, "m");
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = await (await fetch(`${routerUrl}/metrics`)).text();
    if (line("cell-1").test(text) && line("cell-2").test(text)) return;
    if (Date.now() > deadline) throw new Error(`the router never saw az-1 at weight ${weight}`);
    await sleep(50);
  }
}

/**
 * `cellctl az evacuate | restore` (router-weights driver) on the whole platform as
 * processes, under a deposit load through the az-1 router: no client request fails,
 * the az-1 replicas stop receiving traffic once the routers refresh, and get it back
 * after the restore.
 */
describe("AZ evacuation through the routers' weights", () => {
  let platform: LocalPlatform;
  let api: string;
  const users = [
    { userId: "eva-1", cell: "cell-1", token: "", walletId: "" },
    { userId: "eva-2", cell: "cell-2", token: "", walletId: "" },
  ];
  const replicas = ["cell-1/az-1", "cell-2/az-1", "cell-1/az-2", "cell-2/az-2", "cell-1/az-3", "cell-2/az-3"];
  const counts = async () =>
    Object.fromEntries(await Promise.all(replicas.map(async (r) => [r, await servedRequests(platform, r)] as const)));

  // A bounded deposit load: every request carries an Idempotency-Key; any non-201 is a failed client request.
  // Each phase lasts `ms` AND sends at least MIN_PER_PHASE requests, so that a slow (loaded) machine still
  // puts enough traffic through every phase for its counts to mean something.
  const MIN_PER_PHASE = 30;
  const failures: string[] = [];
  let sent = 0;
  async function load(ms: number, concurrency = 4): Promise<void> {
    const until = Date.now() + ms;
    let phaseSent = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        for (let i = 0; Date.now() < until || phaseSent < MIN_PER_PHASE; i++) {
          phaseSent += 1;
          const user = users[(worker + i) % users.length];
          if (!user) throw new Error("no user");
          sent += 1;
          const key = `eva-${worker}-${sent}-${i}`;
          try {
            const r = await http(api, "POST", `/api/v1/wallets/${user.walletId}/deposit`, {
              token: user.token,
              idempotencyKey: key,
              body: { amount: "1.00" },
            });
            if (r.status !== 201) failures.push(`${key}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
          } catch (error) {
            failures.push(`${key}: ${(error as Error).message}`);
          }
        }
      }),
    );
  }

  beforeAll(async () => {
    platform = await startTestPlatform({
      env: {
        ...TEST_PLATFORM_ENV,
        ROUTER_REGISTRY_REFRESH_MS: String(REFRESH_MS),
      },
    });
    api = platform.routerUrl("az-1");
    const placement = platform.openPlacementStore();
    for (const u of users) await placement.setOverride(u.userId, u.cell);
    await placement.close();
    for (const u of users) {
      u.token = await token(u.userId);
      const created = await http(api, "POST", "/api/v1/wallets", { token: u.token, body: { userId: u.userId } });
      expect(created.status).toBe(201);
      u.walletId = created.body.walletId;
      expect(u.walletId.endsWith(`-${u.cell}`)).toBe(true);
    }
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("shifts traffic off az-1 under load without failed requests, and back on restore", async () => {
    // Before: the az-1 router prefers its own AZ's replicas.
    const start = await counts();
    await load(600);
    const warm = await counts();
    expect(warm["cell-1/az-1"]).toBeGreaterThan(start["cell-1/az-1"] ?? 0);
    expect(warm["cell-2/az-1"]).toBeGreaterThan(start["cell-2/az-1"] ?? 0);

    // Evacuate while the load runs.
    const during = load(1500);
    await sleep(300);
    const evacuation = await cellctl(["az", "evacuate", "az-1", "--yes", "--json"], platform.placementPath);
    await during;
    expect(evacuation.code, evacuation.stderr).toBe(0);
    expect(JSON.parse(evacuation.stdout).changes).toHaveLength(2);

    // Once the router (the load's) has refreshed: az-1 gets nothing more.
    await routerSeesAz1Weight(api, 0);
    const evacuated = await counts();
    await load(1200);
    const after = await counts();
    expect(after["cell-1/az-1"]).toBe(evacuated["cell-1/az-1"]);
    expect(after["cell-2/az-1"]).toBe(evacuated["cell-2/az-1"]);
    const otherAzs = (c: Record<string, number>) =>
      (c["cell-1/az-2"] ?? 0) + (c["cell-1/az-3"] ?? 0) + (c["cell-2/az-2"] ?? 0) + (c["cell-2/az-3"] ?? 0);
    expect(otherAzs(after)).toBeGreaterThan(otherAzs(evacuated) + 10);

    // The az-1 router reports its AZ out (a Route 53 health check on it drains the AZ by the data plane),
    // while the other AZs' routers stay in service.
    const readyOf = async (az: string) => {
      const res = await fetch(`${platform.routerUrl(az)}/ready`);
      return [res.status, ((await res.json()) as { status: string }).status];
    };
    expect(await readyOf("az-1")).toEqual([503, "evacuated"]);
    expect(await readyOf("az-2")).toEqual([200, "ready"]);

    // The static-stability verdict reflects the evacuation.
    const described = await cellctl(["cells", "describe", "cell-1", "--json"], platform.placementPath);
    expect(JSON.parse(described.stdout).verdict).toBe("can lose one AZ: no (2 of 3 AZs in service)");

    // Restore: the az-1 router sends to its own AZ again.
    const restore = await cellctl(["az", "restore", "az-1"], platform.placementPath);
    expect(restore.code, restore.stderr).toBe(0);
    await routerSeesAz1Weight(platform.routerUrl("az-1"), 1);
    expect(await readyOf("az-1")).toEqual([200, "ready"]);
    const restored = await counts();
    await load(800);
    const back = await counts();
    expect(back["cell-1/az-1"]).toBeGreaterThan(restored["cell-1/az-1"] ?? 0);
    expect(back["cell-2/az-1"]).toBeGreaterThan(restored["cell-2/az-1"] ?? 0);

    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(4 * MIN_PER_PHASE);
  }, 90_000);
});
