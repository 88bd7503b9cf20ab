#!/usr/bin/env node
import { resolve } from "node:path";
import {
  type CellRecord,
  openPlacementStore,
  type PlacementStore,
  type PlacementStoreConfig,
  placementStoreConfigFromEnv,
} from "@cellwallet/placement";
import { DASHBOARDS_DIR } from "./paths.js";
import { cellTargets, startPrometheus, writePrometheusConfig, writeTargets } from "./prometheus.js";

/**
 * `npm run observe`: a Prometheus beside a running `npm start`, with the project's alert rules, scraping every
 * cell replica the placement registry names (re-read every 10 s, so `cellctl cells create` is followed), the
 * routers, the canary (`cellctl canary run`) and a rollout controller started with `--metrics-port`.
 * Same variables as `npm start` and cellctl.
 */
const env = process.env;
const int = (name: string, fallback: number) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    console.error(`observe: ${name} must be a port number`);
    process.exit(2);
  }
  return value;
};
const dataDir = resolve(env.WALLET_DATA_DIR ?? ".data");
const prometheusPort = int("PROMETHEUS_PORT", 9090);
const routerPort = int("ROUTER_PORT", 8080);
const canaryPort = int("CANARY_METRICS_PORT", 9465);
const rolloutPort = int("ROLLOUT_METRICS_PORT", 9464);
const azs = (env.LOCAL_AZS ?? "az-1,az-2,az-3").split(",").map((s) => s.trim());
const dir = resolve(dataDir, "prometheus");
const sdDir = resolve(dir, "targets");

// The registry `npm start`, the routers and cellctl use (one reading of the variables).
let placementStore: PlacementStoreConfig;
try {
  placementStore = placementStoreConfigFromEnv(env);
} catch (error) {
  console.error(`observe: ${(error as Error).message}`);
  process.exit(2);
}

let lastCells = "";
async function refreshCellTargets(store: PlacementStore): Promise<void> {
  let cells: CellRecord[];
  try {
    cells = await store.listCells();
  } catch (error) {
    console.error(
      `observe: cannot read the placement registry (keeping the last targets): ${(error as Error).message}`,
    );
    return;
  }
  const targets = cellTargets(cells);
  if (targets.join() === lastCells) return;
  lastCells = targets.join();
  writeTargets(sdDir, "cellwallet-cell", targets);
  console.log(`observe: scraping ${targets.length} cell replicas (${cells.map((c) => c.cellId).join(", ")})`);
}

async function main(): Promise<void> {
  writePrometheusConfig({ dir, scrapeInterval: "5s", evaluationInterval: "5s" });
  writeTargets(
    sdDir,
    "cellwallet-router",
    azs.map((_, j) => `127.0.0.1:${routerPort + j}`),
  );
  writeTargets(sdDir, "cellwallet-canary", [`127.0.0.1:${canaryPort}`]);
  writeTargets(sdDir, "cellwallet-rollout", [`127.0.0.1:${rolloutPort}`]);
  const store = openPlacementStore(placementStore);
  await refreshCellTargets(store);
  const timer = setInterval(() => void refreshCellTargets(store), 10_000);
  let prometheus: Awaited<ReturnType<typeof startPrometheus>>;
  try {
    prometheus = await startPrometheus(dir, prometheusPort, "inherit");
  } catch (error) {
    clearInterval(timer);
    await store.close();
    throw new Error(`Prometheus did not start (PROMETHEUS_PORT=${prometheusPort}): ${(error as Error).message}`);
  }
  console.log(`
Prometheus is running: http://localhost:${prometheusPort}   (alerts: /classic/alerts; API: /api/v1/alerts, /api/v1/rules)
  Data and configuration: ${dir}
  Grafana: add a Prometheus data source with URL http://localhost:${prometheusPort}, then
           Dashboards > New > Import each JSON file of ${DASHBOARDS_DIR}
           (Platform overview, Cell, Router, Control plane) and pick that data source.
  Canary:  npx cellctl canary run --all --metrics-port ${canaryPort}      (scraped here)
Press Ctrl-C to stop.`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    await prometheus.stop();
    await store.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  prometheus.child.on("exit", (code) => {
    if (stopping) return;
    console.error(`observe: prometheus exited (${code})`);
    process.exit(1);
  });
}

main().catch((error: Error) => {
  console.error(`observe: ${error.message}`);
  process.exit(1);
});
