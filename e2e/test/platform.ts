import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalPlatform } from "@cellwallet/control-plane/local";

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * Bases are taken below Linux's ephemeral range (32768-60999): a port in it can be handed to any outgoing
 * connection, or any listen(0), between the check below and the process binding it (seen as EADDRINUSE at a
 * platform start while the other vitest worker ran HTTP-heavy tests). Each vitest worker draws from its own
 * half of the range, so two files starting platforms at once never pick the same base.
 */
const BASES_PER_WORKER = 60;

/** A base port from which routers (base..base+2) and cells (base+10+10i+j) are all free. */
export async function freeLayout(cells: number, azs: number): Promise<number> {
  const worker = (Math.max(1, Number(process.env.VITEST_POOL_ID ?? 1)) - 1) % 2;
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + 100 * (worker * BASES_PER_WORKER + Math.floor(Math.random() * BASES_PER_WORKER));
    const ports = [
      ...Array.from({ length: azs }, (_, j) => base + j),
      ...Array.from({ length: cells * azs }, (_, k) => base + 10 + 10 * Math.floor(k / azs) + (k % azs)),
    ];
    if ((await Promise.all(ports.map(portIsFree))).every(Boolean)) return base;
  }
  throw new Error("no free port layout");
}

/**
 * The test platforms' environment: quiet logs, quick cross-cell retries and health probes, no rate limit. The
 * routers' deadline for a cell is well above what a loaded CI machine can stall a healthy process for: past it a
 * slow answer becomes a 503, which the fault and rollout tests count as an error for users the fault does not
 * touch (a dead process is failed over at once: its connections are refused; a hung one is waited for).
 */
export const TEST_PLATFORM_ENV: Readonly<Record<string, string>> = {
  LOG_LEVEL: "warn",
  CROSS_CELL_CREDIT_TIMEOUT_MS: "1000",
  CROSS_CELL_RETRY_INTERVAL_MS: "500",
  ROUTER_CELL_TIMEOUT_MS: "10000",
  ROUTER_HEALTH_INTERVAL_MS: "250",
  ROUTER_RATE_LIMIT_PER_SECOND: "100000",
  ROUTER_RATE_LIMIT_BURST: "100000",
};

/** A local platform (2 cells x 3 AZs by default) in a temp dir, on free ports, quiet. */
export async function startTestPlatform(
  overrides: Partial<ConstructorParameters<typeof LocalPlatform>[0]> = {},
): Promise<LocalPlatform> {
  const routerPort = await freeLayout(overrides.cells ?? 2, overrides.azs?.length ?? 3);
  const platform = new LocalPlatform({
    dataDir: mkdtempSync(join(tmpdir(), "cellwallet-e2e-")),
    cells: 2,
    azs: ["az-1", "az-2", "az-3"],
    routerPort,
    cellBasePort: routerPort + 10,
    capacity: 1000,
    stdio: "ignore",
    env: TEST_PLATFORM_ENV,
    ...overrides,
  });
  await platform.start();
  return platform;
}
