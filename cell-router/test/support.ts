import { mkdtempSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Writable } from "node:stream";
import type { CellEndpoint, PlacementStore } from "@cellwallet/placement";
import { serve } from "@hono/node-server";
import { type CellProcess, startCellProcess } from "../../test-support/cell-process.js";
import { routerConfigFromEnv } from "../src/config.js";
import { type CellRouter, createLogger, createRouter } from "../src/create-router.js";

export const tempDir = (prefix = "cellwallet-router-") => mkdtempSync(join(tmpdir(), prefix));

export interface RouterUnderTest {
  url: string;
  port: number;
  router: CellRouter;
  close(): Promise<void>;
}

/** Fast defaults for tests: quick probes and refreshes, silent logs. */
export const TEST_ROUTER_ENV: Record<string, string> = {
  AZ: "az-1",
  LOG_LEVEL: "silent",
  ROUTER_HEALTH_INTERVAL_MS: "200",
  ROUTER_REGISTRY_REFRESH_MS: "200",
};

/** An in-process router served over real HTTP on a loopback port (0 = any free port). */
export async function startRouter(
  store: PlacementStore,
  env: Record<string, string> = {},
  options: { port?: number; logTo?: Writable } = {},
): Promise<RouterUnderTest> {
  const config = routerConfigFromEnv({
    ...TEST_ROUTER_ENV,
    ROUTER_STATE_FILE: join(tempDir(), "router-state.json"),
    ...env,
  });
  const router = createRouter(config, store, createLogger(config, options.logTo));
  await router.start();
  const server = serve({ fetch: router.app.fetch, hostname: "127.0.0.1", port: options.port ?? 0 });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("router has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    port: address.port,
    router,
    close: async () => {
      await new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      });
      await router.close();
    },
  };
}

export interface CellReplicas {
  cellId: string;
  /** One process per AZ, all on one SQLite file. */
  replicas: Record<string, CellProcess>;
  endpoints(weights?: Record<string, number>): CellEndpoint[];
  stop(): Promise<void>;
}

/** Starts one cell as one real cell-service process per AZ, sharing one SQLite file. */
export async function startCell(
  cellId: string,
  azs: string[],
  env: Record<string, string> = {},
): Promise<CellReplicas> {
  const path = join(tempDir(`cellwallet-${cellId}-`), "ledger.sqlite");
  const replicas: Record<string, CellProcess> = {};
  // One at a time: the first creates the schema.
  for (const az of azs) {
    replicas[az] = await startCellProcess({
      CELL_ID: cellId,
      AZ: az,
      WALLET_STORE: "sqlite",
      WALLET_SQLITE_PATH: path,
      TRUSTED_PROXIES: "127.0.0.1",
      ...env,
    });
  }
  return {
    cellId,
    replicas,
    endpoints: (weights = {}) =>
      azs.map((az) => ({ az, url: (replicas[az] as CellProcess).url, weight: weights[az] ?? 1 })),
    stop: async () => {
      // A replica a test already killed has exited by signal (exitCode stays null): stopping it again would wait forever.
      const running = Object.values(replicas).filter((r) => r.child.exitCode === null && r.child.signalCode === null);
      await Promise.all(running.map((r) => r.stop("SIGKILL")));
    },
  };
}

export async function registerCell(
  store: PlacementStore,
  cellId: string,
  endpoints: CellEndpoint[],
  options: { capacity?: number; state?: "active" | "cordoned" | "draining" | "retired" } = {},
): Promise<void> {
  await store.putCell({ cellId, state: options.state ?? "active", capacity: options.capacity ?? 10_000, endpoints });
}

/** A real TCP server that accepts connections and never answers: a hung cell replica. */
export async function startHangingServer(): Promise<{ url: string; accepted(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
    // Reads whatever arrives and never writes a byte back.
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Sum of a Prometheus counter's series whose labels include all of `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf("{");
    const close = line.lastIndexOf("}");
    const labelText = open >= 0 && close > open ? line.slice(open + 1, close) : "";
    const matches = Object.entries(labels).every(([k, v]) => labelText.includes(`${k}="${v}"`));
    if (matches) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** API requests (not probes or metrics scrapes) a cell replica has served, from its own /metrics. */
export async function apiRequestsServed(replica: CellProcess): Promise<number> {
  const text = await (await fetch(`${replica.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("cellwallet_http_requests_total{") && line.includes('route="/api/')) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = "condition") {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
