import type { CellRecord } from "./placement-store.js";

/**
 * The cell-capacity rule of onboarding, pure: a cell with a measured capacity
 * (maxOpsPerSecond, from `cellload capacity`) takes no new user while it runs
 * above `threshold` of it — never operate at the threshold, keep the headroom for
 * the users it already has (their growth, an AZ's share after an AZ fails).
 * A cell never measured, or whose current rate is unknown, is judged by its user
 * capacity alone (as before).
 */

/** Place no new user in a cell above 80% of its measured ops/s (docs/capacity.md). */
export const DEFAULT_OPS_THRESHOLD = 0.8;

/** Current wallet operations per second of a cell, as its caller knows it; undefined when unknown. */
export type CellOpsRate = (cellId: string) => number | undefined;

export interface OpsLoad {
  rate: CellOpsRate;
  /** Fraction of maxOpsPerSecond above which the cell takes no new users, in (0, 1]. */
  threshold: number;
}

export function assertOpsThreshold(threshold: number): void {
  if (!(threshold > 0 && threshold <= 1)) throw new Error(`ops threshold must be in (0, 1], got ${threshold}`);
}

/** True when the cell runs above its threshold: onboarding must not choose it. */
export function aboveOpsThreshold(cell: CellRecord, opsPerSecond: number | undefined, threshold: number): boolean {
  const max = cell.maxOpsPerSecond;
  if (max === undefined || !(max > 0) || opsPerSecond === undefined || !Number.isFinite(opsPerSecond)) return false;
  return opsPerSecond > threshold * max;
}

/** Spare capacity as a percentage of maxOpsPerSecond (negative above it); null when either is unknown. */
export function opsHeadroomPercent(cell: CellRecord, opsPerSecond: number | null | undefined): number | null {
  const max = cell.maxOpsPerSecond;
  if (max === undefined || !(max > 0) || opsPerSecond == null || !Number.isFinite(opsPerSecond)) return null;
  return Math.round((1000 * (max - opsPerSecond)) / max) / 10;
}
