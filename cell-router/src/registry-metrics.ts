import type { CellRecord } from "@cellwallet/placement";
import { Gauge, type Registry } from "prom-client";
import type { RouterMetrics } from "./metrics.js";

const STATES = ["active", "cordoned", "draining", "retired"] as const;

/**
 * The cell registry as this router last read it, exported at each scrape: state, users, capacity and AZ
 * weights per cell (the platform overview's "cells by state, fill and AZ weights"). Nothing on the request
 * path: the gauges are filled from the router's in-memory copy when Prometheus scrapes.
 */
export function registerRegistryMetrics(registry: Registry, cells: () => readonly CellRecord[]): void {
  const registers = [registry];
  new Gauge({
    name: "cellwallet_router_cell_state",
    help: "1 for the state of each cell in the registry this router uses (active, cordoned, draining, retired)",
    labelNames: ["cell", "state"],
    registers,
    collect() {
      this.reset();
      for (const c of cells()) for (const s of STATES) this.set({ cell: c.cellId, state: s }, c.state === s ? 1 : 0);
    },
  });
  new Gauge({
    name: "cellwallet_router_cell_users",
    help: "Users placed in each cell, as the registry this router uses says",
    labelNames: ["cell"],
    registers,
    collect() {
      this.reset();
      for (const c of cells()) this.set({ cell: c.cellId }, c.users);
    },
  });
  new Gauge({
    name: "cellwallet_router_cell_user_capacity",
    help: "Most users each cell may hold (placement never exceeds it)",
    labelNames: ["cell"],
    registers,
    collect() {
      this.reset();
      for (const c of cells()) this.set({ cell: c.cellId }, c.capacity);
    },
  });
  new Gauge({
    name: "cellwallet_router_cell_az_weight",
    help: "Traffic weight of each cell's replica AZ in the registry (0: evacuated)",
    labelNames: ["cell", "cell_az"],
    registers,
    collect() {
      this.reset();
      for (const c of cells()) for (const e of c.endpoints) this.set({ cell: c.cellId, cell_az: e.az }, e.weight);
    },
  });
}

/**
 * Zero-valued series for the counters of rare events (shedding, unavailability, failovers, placement-store
 * errors), so that dashboards and rate() see 0 rather than nothing until the first one happens.
 */
export function initialiseRareEventSeries(metrics: RouterMetrics, cells: readonly CellRecord[]): void {
  for (const operation of ["listCells", "getUserPlacement", "getRelocation", "onboardUser"]) {
    metrics.placementStoreErrors.inc({ operation }, 0);
  }
  for (const c of cells) {
    metrics.shed.inc({ cell: c.cellId }, 0);
    metrics.cellUnavailable.inc({ cell: c.cellId }, 0);
    for (const e of c.endpoints) {
      for (const reason of ["connect-error", "timeout", "unavailable"]) {
        metrics.failovers.inc({ cell: c.cellId, cell_az: e.az, reason }, 0);
      }
    }
  }
}
