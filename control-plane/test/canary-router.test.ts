/**
 * Which router `cellctl canary run` sends its journeys to, and what it says when it cannot reach it (ops audit
 * finding 8): started with only WALLET_DATA_DIR, it went to 127.0.0.1:8080 — another platform's router on a
 * shared host, or nothing — and said "create-wallets: fetch failed" without naming it.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { beforeAll, describe, expect, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { freePort } from "../../test-support/moto-server.js";
import type { LauncherStatus } from "../src/local/launcher-status.js";

const dataDir = mkdtempSync(join(tmpdir(), "cellwallet-canary-router-"));
let routerPorts: number[] = [];

/** The journey's first step against a router nothing listens on, as the canary reports it. */
const unreachable = (port: number) =>
  `cell-1: FAILED (create-wallets: POST http://127.0.0.1:${port}/api/v1/wallets: fetch failed (connect ECONNREFUSED 127.0.0.1:${port}))`;

describe("cellctl canary run: its router", () => {
  beforeAll(async () => {
    const store = new SqlitePlacementStore({ path: join(dataDir, "control-plane", "placement.sqlite") });
    await store.putCell({ cellId: "cell-1", state: "active", capacity: 10, endpoints: [] });
    await store.close();
    // A local platform's launcher runs in this data dir (this test's own pid is alive), its routers on ports
    // nothing listens on: the journeys must go there, and fail naming them.
    routerPorts = [await freePort(), await freePort()];
    const status: LauncherStatus = {
      launcherPid: process.pid,
      updatedAt: new Date().toISOString(),
      processes: ["az-1", "az-2"].map((az, i) => ({
        name: `router/${az}`,
        kind: "router" as const,
        az,
        port: routerPorts[i] as number,
        state: "running" as const,
        restarts: 0,
        consecutiveCrashes: 0,
      })),
    };
    mkdirSync(join(dataDir, "control-plane"), { recursive: true });
    writeFileSync(join(dataDir, "control-plane", "launcher-status.json"), JSON.stringify(status));
  });

  it("defaults to the router of the local platform running in WALLET_DATA_DIR (its --az's), and names it", async () => {
    const run = await runCellctl(["canary", "run", "--cell", "cell-1", "--once"], { WALLET_DATA_DIR: dataDir });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain(unreachable(routerPorts[0] as number));
    const az2 = await runCellctl(["canary", "run", "--cell", "cell-1", "--once", "--az", "az-2"], {
      WALLET_DATA_DIR: dataDir,
    });
    expect(az2.stdout).toContain(unreachable(routerPorts[1] as number));
  }, 60_000);

  it("takes ROUTER_PORT, then --router, before the launcher's", async () => {
    const port = await freePort();
    const byPort = await runCellctl(["canary", "run", "--cell", "cell-1", "--once"], {
      WALLET_DATA_DIR: dataDir,
      ROUTER_PORT: String(port),
    });
    expect([byPort.code, byPort.stdout]).toEqual([1, expect.stringContaining(unreachable(port))]);
    const other = await freePort();
    const byFlag = await runCellctl(
      ["canary", "run", "--cell", "cell-1", "--once", "--router", `http://127.0.0.1:${other}`],
      { WALLET_DATA_DIR: dataDir, ROUTER_PORT: String(port) },
    );
    expect([byFlag.code, byFlag.stdout]).toEqual([1, expect.stringContaining(unreachable(other))]);
  }, 60_000);
});
