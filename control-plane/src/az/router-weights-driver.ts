import type { CellRecord, PlacementStore } from "@cellwallet/placement";
import { type EvacuationChange, planEvacuation, planRestore, withWeight } from "../placement/cell-operations.js";
import { type AzTrafficDriver, type TrafficPlan, UsageError } from "./traffic-driver.js";

/**
 * The routers' AZ weights in the placement registry: routers re-read it every
 * ROUTER_REGISTRY_REFRESH_MS and never send to a weight-0 endpoint.
 */
export class RouterWeightsDriver implements AzTrafficDriver<EvacuationChange> {
  readonly name = "router-weights";
  readonly scope: Record<string, string>;

  constructor(
    private readonly store: PlacementStore,
    private readonly cellId?: string,
  ) {
    this.scope = { cell: cellId ?? "all" };
  }

  private async targetCells(az: string): Promise<CellRecord[]> {
    const all = await this.store.listCells();
    const cells = this.cellId ? all.filter((c) => c.cellId === this.cellId) : all;
    if (this.cellId && cells.length === 0) throw new UsageError(`unknown cell ${this.cellId}`);
    if (!cells.some((c) => c.state !== "retired" && c.endpoints.some((e) => e.az === az))) {
      throw new UsageError(`no ${this.cellId ? `endpoint of ${this.cellId}` : "cell has an endpoint"} in ${az}`);
    }
    return cells;
  }

  async planEvacuation(az: string): Promise<TrafficPlan<EvacuationChange>> {
    return planEvacuation(await this.targetCells(az), az);
  }

  async planRestore(
    az: string,
    previous: (key: string) => number | undefined,
    explicitWeight?: number,
  ): Promise<TrafficPlan<EvacuationChange>> {
    return { ok: true, ...planRestore(await this.targetCells(az), az, previous, explicitWeight) };
  }

  async apply(changes: readonly EvacuationChange[]): Promise<void> {
    for (const change of changes) {
      // Re-read just before writing so a concurrent state change (cordon) is not undone.
      const current = await this.store.getCell(change.cellId);
      if (!current) throw new Error(`cell ${change.cellId} disappeared`);
      await this.store.putCell(withWeight(current, change.az, change.to));
    }
  }

  ownsAuditDetails(details: Record<string, unknown>): boolean {
    // Any cell scope: a restore of one cell uses the weight an evacuation of all cells replaced.
    return details.driver === undefined || details.driver === this.name;
  }

  keyOf(change: EvacuationChange): string | undefined {
    return typeof change.cellId === "string" ? change.cellId : undefined;
  }

  readonly table = {
    header: "CELL                 AZ         WEIGHT",
    row: (c: EvacuationChange) => `${c.cellId.padEnd(20)} ${c.az.padEnd(10)} ${c.from} -> ${c.to}`,
    unchanged: (cellId: string, az: string, verb: string) =>
      `${cellId.padEnd(20)} ${az.padEnd(10)} unchanged (already ${verb}d)`,
    applied: "routers apply it on their next registry refresh (ROUTER_REGISTRY_REFRESH_MS)",
  };

  close(): Promise<void> {
    return this.store.close();
  }
}
