/**
 * A cell's measured capacity at the router: the registry's maxOpsPerSecond is
 * exported as cellwallet_router_cell_capacity_ops_per_second{cell}, the router's
 * own forwarded rate per cell as cellwallet_router_cell_ops_per_second{cell},
 * and onboarding through the router stops placing new users in a cell running
 * above its threshold. Two real cells (one cell-service process each).
 */
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../../test-support/http.js";
import { freePort } from "../../test-support/moto-server.js";
import { token } from "../../test-support/tokens.js";
import { CellRateMeter } from "../src/cell-rate.js";
import {
  type CellReplicas,
  type RouterUnderTest,
  registerCell,
  startCell,
  startRouter,
  tempDir,
  waitFor,
} from "./support.js";

let cell1: CellReplicas;
let cell2: CellReplicas;
let store: SqlitePlacementStore;
let router: RouterUnderTest;

async function createWallet(userId: string): Promise<string> {
  const res = await http(router.url, "POST", "/api/v1/wallets", { token: await token(userId), body: { userId } });
  if (res.status !== 201) throw new Error(`create ${userId}: ${res.status} ${res.text}`);
  return res.body.walletId as string;
}

const metricsText = async () => (await http(router.url, "GET", "/metrics")).text as string;

beforeAll(async () => {
  const routerPort = await freePort();
  const cellEnv = { ROUTER_INTERNAL_URL: `http://127.0.0.1:${routerPort}` };
  [cell1, cell2] = await Promise.all([startCell("cell-1", ["az-1"], cellEnv), startCell("cell-2", ["az-1"], cellEnv)]);
  store = new SqlitePlacementStore({ path: `${tempDir()}/placement.sqlite` });
  await registerCell(store, "cell-1", cell1.endpoints());
  await registerCell(store, "cell-2", cell2.endpoints());
  router = await startRouter(
    store,
    { ROUTER_RATE_LIMIT_PER_SECOND: "0", ROUTER_PLACEMENT_OPS_THRESHOLD: "0.8" },
    { port: routerPort },
  );
}, 60_000);

afterAll(async () => {
  await router?.close();
  await Promise.all([cell1?.stop(), cell2?.stop()]);
  await store?.close();
});

describe("cell capacity at the router", () => {
  it("exports the registry's max ops/s per cell, and only for measured cells", async () => {
    await store.setCellMaxOpsPerSecond("cell-1", 1000);
    await waitFor(
      async () =>
        (await metricsText()).includes('cellwallet_router_cell_capacity_ops_per_second{cell="cell-1",az="az-1"} 1000'),
      15_000,
    );
    expect(await metricsText()).not.toMatch(/cellwallet_router_cell_capacity_ops_per_second\{cell="cell-2"/);
    await store.setCellMaxOpsPerSecond("cell-2", 2500);
    await waitFor(
      async () =>
        (await metricsText()).includes('cellwallet_router_cell_capacity_ops_per_second{cell="cell-2",az="az-1"} 2500'),
      15_000,
    );
  });

  it("stops onboarding new users into a cell running above its threshold", async () => {
    // cell-2 holds more users, so the policy's least-filled choice is cell-1 ...
    for (const u of ["busy-1", "busy-2", "busy-3"]) await store.setOverride(u, "cell-2");
    for (const u of ["busy-1", "busy-2", "busy-3"]) await createWallet(u);
    expect(await createWallet("before-load")).toMatch(/-cell-1$/);
    // ... until cell-1 runs above 80% of a measured 5 ops/s: 80 requests within 10 s is 8/s.
    await store.setCellMaxOpsPerSecond("cell-1", 5);
    await waitFor(
      async () =>
        (await metricsText()).includes('cellwallet_router_cell_capacity_ops_per_second{cell="cell-1",az="az-1"} 5'),
      15_000,
    );
    const hotWallet = await createWallet("hot-user");
    expect(hotWallet).toMatch(/-cell-1$/);
    const hotToken = await token("hot-user");
    await Promise.all(
      Array.from({ length: 80 }, () => http(router.url, "GET", `/api/v1/wallets/${hotWallet}`, { token: hotToken })),
    );
    // The rate counts whole seconds only.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await metricsText()).toMatch(
      /cellwallet_router_cell_ops_per_second\{cell="cell-1",az="az-1"\} ([89]|1[0-9])(\.[0-9]+)?\n/,
    );
    for (const u of ["after-1", "after-2", "after-3"]) expect(await createWallet(u)).toMatch(/-cell-2$/);
    expect((await store.getUserPlacement("after-1"))?.cellId).toBe("cell-2");
  }, 30_000);
});

describe("the router's per-cell rate meter", () => {
  it("averages whole seconds of the window and scales by the routers sharing the traffic", () => {
    let now = 100_000;
    const meter = new CellRateMeter(10, 3, () => now);
    for (let i = 0; i < 50; i++) meter.hit("cell-1");
    expect(meter.ownRate("cell-1")).toBe(0); // the current second is not complete yet
    now += 1000;
    expect(meter.ownRate("cell-1")).toBe(5);
    expect(meter.cellRate("cell-1")).toBe(15);
    now += 10_000;
    expect(meter.ownRate("cell-1")).toBe(0);
    expect(meter.ownRate("cell-2")).toBe(0);
  });
});
