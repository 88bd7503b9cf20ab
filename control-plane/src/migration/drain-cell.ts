import type { PlacementStore } from "@cellwallet/placement";
import { type MoveContext, type MoveResult, moveUsers, resumeUnfinishedMigrations } from "./move-users.js";
import { planDrain } from "./rebalance-plan.js";

export interface DrainOutcome {
  cellId: string;
  results: MoveResult[];
  failed: MoveResult[];
  /** Users no active cell had room for. */
  unplaceable: string[];
  /** Users a placement override pins to this cell (the canary users, a quarantine): moved last. */
  pinned: string[];
  usersLeft: number;
  /** The cell is empty and every move succeeded: it can be retired. */
  empty: boolean;
}

/**
 * The cell's users in drain order, override-pinned users last: a drain must empty the cell, so they move
 * too, but last, so the cell's canary keeps testing it for as long as it still serves real users.
 */
async function drainOrder(store: PlacementStore, cellId: string): Promise<{ users: string[]; pinned: string[] }> {
  const placed = (await store.listCellUsers(cellId)).map((p) => p.userId);
  const pinned: string[] = [];
  const free: string[] = [];
  for (const userId of placed) ((await store.getOverride(userId)) === cellId ? pinned : free).push(userId);
  return { users: [...free, ...pinned], pinned };
}

/**
 * Whether the other active cells have room for every user of the cell, asked before a drain marks it
 * draining: a draining cell cannot go back (no undrain), so a drain that could not finish must not start.
 */
export async function drainRoom(
  store: PlacementStore,
  cellId: string,
): Promise<{ users: number; unplaceable: number }> {
  const users = (await store.listCellUsers(cellId)).map((p) => p.userId);
  const plan = planDrain(await store.listCells(), cellId, users);
  return { users: users.length, unplaceable: plan.unplaceable.length };
}

/**
 * Moves every user out of a cell already marked draining: first the migrations a crashed drain left
 * behind, then whoever is still placed there (override-pinned users last), each to the least-filled
 * active cell with room. Resumable: running it again continues where it stopped.
 */
export async function drainCell(context: MoveContext, cellId: string): Promise<DrainOutcome> {
  const { store } = context.deps;
  const results = await resumeUnfinishedMigrations(context, cellId);
  const { users, pinned } = await drainOrder(store, cellId);
  const plan = planDrain(await store.listCells(), cellId, users);
  results.push(...(await moveUsers(context, plan.moves, `drain ${cellId}`)));
  const usersLeft = (await store.getCell(cellId))?.users ?? 0;
  const failed = results.filter((r) => !r.ok);
  return {
    cellId,
    results,
    failed,
    unplaceable: plan.unplaceable,
    pinned,
    usersLeft,
    empty: usersLeft === 0 && failed.length === 0 && plan.unplaceable.length === 0,
  };
}
