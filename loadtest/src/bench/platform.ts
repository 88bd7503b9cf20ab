import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
// The launcher, by control-plane's package export `./local` (never by a relative path into its src/ or dist/).
import { LocalPlatform, type ManagedProcess } from "@cellwallet/control-plane/local";
import { BENCH_JWT_SECRET } from "./fixtures.js";
import { cleanEnv, freePort, portIsFree } from "./processes.js";

export interface BenchPlatform {
  platform: LocalPlatform;
  dir: string;
  routerUrl: string;
  cellIds: string[];
  /** Base URL of a cell's (only) replica. */
  cellUrl(cellId: string): string;
  /** pid of "router/az-1", "cell-1/az-1", … */
  pid(name: string): number | undefined;
  /** Pins users to a cell (placement override) before their wallets are created. */
  pin(userIds: string[], cellId: string): Promise<void>;
  /** Processes that exited while they should have been running. */
  unexpectedExits: string[];
  stop(): Promise<void>;
}

/** A router port and a cell base port such that the router and every cell port (base + 10 i) are free. */
async function freeLayout(cells: number): Promise<{ routerPort: number; cellBasePort: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const routerPort = await freePort();
    const cellBasePort = await freePort();
    if (cellBasePort + 10 * (cells - 1) > 65535) continue;
    const ports = Array.from({ length: cells }, (_, i) => cellBasePort + 10 * i);
    if (ports.includes(routerPort)) continue;
    if ((await Promise.all(ports.map(portIsFree))).every(Boolean)) return { routerPort, cellBasePort };
  }
  throw new Error("no free port layout");
}

/**
 * The local platform with `cells` cells in ONE AZ (one replica each) and its one
 * router, in a temp dir on free loopback ports, on the embedded SQLite store,
 * with the router's rate limit off (ROUTER_RATE_LIMIT_PER_SECOND=0). Everything
 * else is the processes' defaults, as in production, except LOG_LEVEL=warn
 * (as bench-cell: no per-request access log). Process output is inherited, so
 * an error log shows up in the benchmark's output. `extraEnv` goes to every process (e.g. to force the
 * cross-cell pending path with a tiny CROSS_CELL_CREDIT_TIMEOUT_MS).
 */
export async function startBenchPlatform(cells: number, extraEnv: Record<string, string> = {}): Promise<BenchPlatform> {
  // LocalPlatform passes this process's environment to its children: drop whatever could change
  // their store, auth mode, secrets, paths or ports (the same list bench-cell keeps from its cells).
  const keep = cleanEnv();
  for (const name of Object.keys(process.env)) if (!(name in keep)) delete process.env[name];

  const dir = mkdtempSync(join(tmpdir(), "cellwallet-bench-router-"));
  const { routerPort, cellBasePort } = await freeLayout(cells);
  const platform = new LocalPlatform({
    dataDir: dir,
    cells,
    azs: ["az-1"],
    routerPort,
    cellBasePort,
    capacity: 100_000,
    stdio: "inherit",
    env: {
      LOG_LEVEL: "warn",
      WALLET_STORE: "sqlite",
      WALLET_JWT_SECRET: BENCH_JWT_SECRET,
      CELL_INTERNAL_SECRET: `bench-internal-${randomBytes(24).toString("hex")}`,
      ROUTER_RATE_LIMIT_PER_SECOND: "0",
      ...extraEnv,
    },
  });
  const unexpectedExits: string[] = [];
  platform.onUnexpectedExit = (p, code, signal) => {
    const text = `${p.name} exited unexpectedly (code ${code}, signal ${signal})`;
    unexpectedExits.push(text);
    console.error(text);
  };
  try {
    await platform.start();
  } catch (error) {
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const find = (name: string): ManagedProcess => platform.find(name);
  return {
    platform,
    dir,
    routerUrl: platform.routerUrl("az-1"),
    cellIds: platform.cellIds,
    cellUrl: (cellId) => `http://127.0.0.1:${find(`${cellId}/az-1`).port}`,
    pid: (name) => find(name).child?.pid,
    pin: async (userIds, cellId) => {
      const store = platform.openPlacementStore();
      try {
        for (const userId of userIds) await store.setOverride(userId, cellId);
      } finally {
        await store.close();
      }
    },
    unexpectedExits,
    stop: async () => {
      try {
        await platform.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
