import { createTokenVerifier } from "@cellwallet/contract";
import type { PlacementStore } from "@cellwallet/placement";
import type { Hono } from "hono";
import pino, { type DestinationStream, type Logger, type LoggerOptions } from "pino";
import { createRouterApp } from "./app.js";
import { CellRateMeter } from "./cell-rate.js";
import type { RouterConfig } from "./config.js";
import { Forwarder } from "./forward.js";
import { EndpointHealth } from "./health.js";
import { RouterMetrics } from "./metrics.js";
import { PlacementDirectory } from "./placement-directory.js";
import { RateLimiter } from "./rate-limit.js";
import { initialiseRareEventSeries, registerRegistryMetrics } from "./registry-metrics.js";
import { proxyTrust } from "./trusted-proxies.js";

export type RouterSettings = Omit<RouterConfig, "host" | "port" | "placementStore" | "stateFile"> & {
  /** undefined: no state file (last-known-good kept in memory only). */
  stateFile: string | undefined;
};

export interface CellRouter {
  // biome-ignore lint/suspicious/noExplicitAny: the app's env type is internal to app.ts
  app: Hono<any>;
  directory: PlacementDirectory;
  forwarder: Forwarder;
  health: EndpointHealth;
  metrics: RouterMetrics;
  logger: Logger;
  /** Loads the saved state, reads the registry and starts the probes. */
  start(): Promise<void>;
  /** Marks the router not ready (drain before shutdown). */
  setReady(ready: boolean): void;
  /** Stops probes and refreshes, saves the state, closes the connection pools (not the store). */
  close(): Promise<void>;
}

/** JSON lines on stdout (or `destination`): time, level, msg, service, az, and requestId per request. */
export function createLogger(config: Pick<RouterConfig, "az" | "logLevel">, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level: config.logLevel,
    base: { service: "cell-router", az: config.az },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
    messageKey: "msg",
    // Defence in depth: these never belong in a log line.
    redact: ["req.headers.authorization", "authorization", "token", "secret"],
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Wires one router process around a placement store. */
export function createRouter(
  config: RouterSettings,
  store: PlacementStore,
  logger: Logger = createLogger(config),
): CellRouter {
  const metrics = new RouterMetrics(config.az);
  const rates = new CellRateMeter(10, config.peers ?? 1);
  let cellIds: string[] = [];
  let cellUrls = new Map<string, string[]>();
  metrics.cellOpsRates = () => new Map(cellIds.map((id) => [id, rates.ownRate(id)]));
  const health = new EndpointHealth({
    intervalMs: config.healthIntervalMs,
    timeoutMs: Math.min(config.healthIntervalMs, config.cellTimeoutMs, 1000),
    onChange: (endpoint, healthy) => {
      metrics.endpointHealthy.set({ cell: endpoint.cellId, cell_az: endpoint.az }, healthy ? 1 : 0);
      logger[healthy ? "info" : "warn"](
        { cellId: endpoint.cellId, cellAz: endpoint.az, url: endpoint.url },
        healthy ? "cell endpoint healthy" : "cell endpoint unhealthy",
      );
    },
  });
  const forwarder = new Forwarder({
    az: config.az,
    connections: config.cellConnections,
    timeoutMs: config.cellTimeoutMs,
    maxInflight: config.cellMaxInflight,
    health,
    metrics,
    onForward: (cellId) => rates.hit(cellId),
  });
  const directory = new PlacementDirectory({
    store,
    ttlMs: config.placementTtlMs,
    timeoutMs: config.placementTimeoutMs,
    registryRefreshMs: config.registryRefreshMs,
    cacheMax: config.placementCacheMax,
    stateFile: config.stateFile,
    metrics,
    logger,
    opsLoad: { rate: (cellId) => rates.cellRate(cellId), threshold: config.opsThreshold ?? 0.8 },
    // A cell is unreachable when every one of its replicas failed its probe or its last connection; a cell this
    // router has not seen in the registry yet counts as reachable (nothing says otherwise).
    reachableCell: (cellId) => {
      const urls = cellUrls.get(cellId);
      return urls === undefined || urls.length === 0 || urls.some((url) => health.isHealthy(url));
    },
    onRegistry: (cells) => {
      cellIds = cells.map((c) => c.cellId);
      cellUrls = new Map(cells.map((c) => [c.cellId, c.endpoints.map((e) => e.url)]));
      metrics.cellCapacity.reset();
      for (const cell of cells) {
        if (cell.maxOpsPerSecond !== undefined) metrics.cellCapacity.set({ cell: cell.cellId }, cell.maxOpsPerSecond);
      }
      const endpoints = cells.flatMap((cell) =>
        cell.endpoints.map((e) => ({ cellId: cell.cellId, az: e.az, url: e.url })),
      );
      health.setEndpoints(endpoints);
      forwarder.syncEndpoints(endpoints.map((e) => e.url));
      initialiseRareEventSeries(metrics, cells);
      metrics.endpointHealthy.reset();
      for (const e of endpoints) {
        metrics.endpointHealthy.set({ cell: e.cellId, cell_az: e.az }, health.isHealthy(e.url) ? 1 : 0);
      }
    },
  });
  registerRegistryMetrics(metrics.registry, () => directory.cells());
  let ready = true;
  const app = createRouterApp({
    az: config.az,
    ...(config.instance ? { instance: config.instance } : {}),
    verifyToken: createTokenVerifier(config.jwt),
    verifyServiceToken: createTokenVerifier({ kind: "hs256", secret: config.internalSecret }),
    directory,
    forwarder,
    rateLimiter: new RateLimiter({ ratePerSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst }),
    metrics,
    logger,
    cellTimeoutMs: config.cellTimeoutMs,
    trustsProxy: proxyTrust(config.trustedProxies ?? []),
    ready: () => ready,
  });
  return {
    app,
    directory,
    forwarder,
    health,
    metrics,
    logger,
    async start() {
      await directory.start();
      health.start();
    },
    setReady: (r) => {
      ready = r;
    },
    async close() {
      ready = false;
      await health.stop();
      await directory.stop();
      await forwarder.close();
    },
  };
}
