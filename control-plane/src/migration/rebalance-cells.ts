import type { PlacementStore } from "@cellwallet/placement";
import { unfinishedMigrations } from "./move-users.js";
import { type PlannedMove, planRebalance } from "./rebalance-plan.js";

export interface RebalancePlanSummary {
  /** Fill-level spread (max - min, in percentage points) before and after the planned moves. */
  spreadBefore: number;
  spreadAfter: number;
  moves: PlannedMove[];
}

/**
 * Reads the cells and their users and plans the moves that bring fill levels within `threshold`
 * (sources: active and cordoned cells; users already in an unfinished migration are left alone).
 */
export async function planCellRebalance(
  store: PlacementStore,
  options: { threshold: number; maxMoves: number },
): Promise<RebalancePlanSummary> {
  const cells = await store.listCells();
  const users = new Map<string, string[]>();
  for (const c of cells.filter((x) => x.state === "active" || x.state === "cordoned")) {
    users.set(
      c.cellId,
      (await store.listCellUsers(c.cellId)).map((p) => p.userId),
    );
  }
  const busy = new Set((await unfinishedMigrations(store)).map((m) => m.userId));
  const plan = planRebalance(cells, (id) => (users.get(id) ?? []).filter((u) => !busy.has(u)), options);
  return {
    spreadBefore: Math.round(plan.spreadBefore * 1000) / 10,
    spreadAfter: Math.round(plan.spreadAfter * 1000) / 10,
    moves: plan.moves,
  };
}
