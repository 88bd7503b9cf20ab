import { type MoveContext, type MoveResult, moveUsers, resumeUnfinishedMigrations } from "./move-users.js";
import { planDrain } from "./rebalance-plan.js";

export interface DrainOutcome {
  cellId: string;
  results: MoveResult[];
  failed: MoveResult[];
  /** Users no active cell had room for. */
  unplaceable: string[];
  usersLeft: number;
  /** The cell is empty and every move succeeded: it can be retired. */
  empty: boolean;
}

/**
 * Moves every user out of a cell already marked draining: first the migrations a crashed drain left
 * behind, then whoever is still placed there, each to the least-filled active cell with room.
 * Resumable: running it again continues where it stopped.
 */
export async function drainCell(context: MoveContext, cellId: string): Promise<DrainOutcome> {
  const { store } = context.deps;
  const results = await resumeUnfinishedMigrations(context, cellId);
  const users = (await store.listCellUsers(cellId)).map((p) => p.userId);
  const plan = planDrain(await store.listCells(), cellId, users);
  results.push(...(await moveUsers(context, plan.moves, `drain ${cellId}`)));
  const usersLeft = (await store.getCell(cellId))?.users ?? 0;
  const failed = results.filter((r) => !r.ok);
  return {
    cellId,
    results,
    failed,
    unplaceable: plan.unplaceable,
    usersLeft,
    empty: usersLeft === 0 && failed.length === 0 && plan.unplaceable.length === 0,
  };
}
