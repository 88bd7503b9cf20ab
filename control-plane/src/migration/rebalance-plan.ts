import type { CellRecord } from "@cellwallet/placement";
import { choosePlacementCell, stableHash } from "@cellwallet/placement";

/**
 * Which users to move, decided from the registry alone. Pure: the same cells
 * and users always give the same plan, so `--dry-run` prints exactly what a
 * real run does first.
 */

export interface PlannedMove {
  userId: string;
  from: string;
  to: string;
}

export interface RebalanceOptions {
  /** Stop when the fullest and emptiest cells' fill levels (users/capacity) differ by at most this (0..1). */
  threshold: number;
  maxMoves: number;
}

export const DEFAULT_REBALANCE_THRESHOLD = 0.1;

const fill = (users: number, capacity: number) => (capacity > 0 ? users / capacity : Number.POSITIVE_INFINITY);

/**
 * Moves users one at a time from the fullest cell (active or cordoned: a cordoned cell may shed users)
 * to the emptiest active cell with room, until the spread of fill levels is within the threshold, a move
 * would no longer narrow it, or maxMoves is reached. Which user leaves a cell is chosen by a stable hash,
 * so reruns pick the same users and concurrent plans do not all pick the first.
 */
export function planRebalance(
  cells: readonly CellRecord[],
  usersOf: (cellId: string) => readonly string[],
  options: RebalanceOptions,
): { moves: PlannedMove[]; spreadBefore: number; spreadAfter: number } {
  const state = cells
    .filter((c) => c.state === "active" || c.state === "cordoned")
    .map((c) => ({
      cell: c,
      users: c.users,
      leaving: [...usersOf(c.cellId)].sort((a, b) => stableHash(a) - stableHash(b) || (a < b ? -1 : 1)),
    }));
  const spread = () => {
    const fills = state.filter((s) => s.cell.capacity > 0).map((s) => fill(s.users, s.cell.capacity));
    return fills.length < 2 ? 0 : Math.max(...fills) - Math.min(...fills);
  };
  const spreadBefore = spread();
  const moves: PlannedMove[] = [];
  while (moves.length < options.maxMoves) {
    const sources = state.filter((s) => s.leaving.length > 0 && s.cell.capacity > 0);
    const targets = state.filter((s) => s.cell.state === "active" && s.users < s.cell.capacity);
    if (sources.length === 0 || targets.length === 0) break;
    const source = sources.reduce((a, b) => (fill(b.users, b.cell.capacity) > fill(a.users, a.cell.capacity) ? b : a));
    const target = targets.reduce((a, b) => (fill(b.users, b.cell.capacity) < fill(a.users, a.cell.capacity) ? b : a));
    if (source === target) break;
    const before = fill(source.users, source.cell.capacity) - fill(target.users, target.cell.capacity);
    if (before <= options.threshold + 1e-12) break;
    // Moving must not overshoot: the target must stay at or below the source's new fill.
    const after = fill(target.users + 1, target.cell.capacity) - fill(source.users - 1, source.cell.capacity);
    if (after > before - 1e-12) break;
    const userId = source.leaving.shift() as string;
    moves.push({ userId, from: source.cell.cellId, to: target.cell.cellId });
    source.users -= 1;
    target.users += 1;
  }
  return { moves, spreadBefore, spreadAfter: spread() };
}

/**
 * Where each user of a draining cell goes: the placement policy (least-filled active cell with room,
 * rendezvous-hash ties), applied user by user with the counts updated as the plan fills cells.
 */
export function planDrain(
  cells: readonly CellRecord[],
  sourceCellId: string,
  userIds: readonly string[],
): { moves: PlannedMove[]; unplaceable: string[] } {
  const working = cells.filter((c) => c.cellId !== sourceCellId).map((c) => ({ ...c }));
  const moves: PlannedMove[] = [];
  const unplaceable: string[] = [];
  for (const userId of userIds) {
    const choice = choosePlacementCell(working, userId);
    if (!choice.ok) {
      unplaceable.push(userId);
      continue;
    }
    moves.push({ userId, from: sourceCellId, to: choice.cellId });
    const target = working.find((c) => c.cellId === choice.cellId);
    if (target) target.users += 1;
  }
  return { moves, unplaceable };
}
