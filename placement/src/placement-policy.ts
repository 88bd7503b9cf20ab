import { aboveOpsThreshold, type OpsLoad } from "./ops-headroom.js";
import type { CellRecord } from "./placement-store.js";

/**
 * Where a new user goes. Pure: the same cells and user id always give the same
 * answer, so a placement decision can be replayed and tested without any store.
 */

export type PlacementChoice = { ok: true; cellId: string } | { ok: false; reason: "no-capacity" };

/**
 * FNV-1a (32 bit) over UTF-16 code units, then MurmurHash3's fmix32 finalizer:
 * tiny, stable across runtimes and releases, no I/O. The finalizer matters:
 * plain FNV-1a barely mixes a last character, so ids that differ only at the
 * end (cell-1, cell-2) would not share ties out evenly.
 */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * Only active cells with room take new users; NaN or missing numbers fail the comparison and exclude the cell.
 * With `load`, neither does a cell running above its ops/s threshold (ops-headroom.ts).
 */
function hasRoom(cell: CellRecord, load: OpsLoad | undefined): boolean {
  if (load && aboveOpsThreshold(cell, load.rate(cell.cellId), load.threshold)) return false;
  return cell.state === "active" && cell.users < cell.capacity;
}

/**
 * The least-filled active cell with room (users/capacity). Equal fill ratios are
 * broken by a per-user hash of the cell id (rendezvous hashing), so concurrent
 * onboardings that read the same registry spread over equally empty cells
 * instead of all contending for the first one; the cell id settles a hash tie.
 */
export function choosePlacementCell(cells: readonly CellRecord[], userId: string, load?: OpsLoad): PlacementChoice {
  let best: { cell: CellRecord; fill: number; hash: number } | undefined;
  for (const cell of cells) {
    if (!hasRoom(cell, load)) continue;
    // IEEE division is correctly rounded, so equal ratios (1/4, 2/8) compare exactly equal.
    const candidate = { cell, fill: cell.users / cell.capacity, hash: stableHash(`${userId}\u0000${cell.cellId}`) };
    if (best === undefined || isBetter(candidate, best)) best = candidate;
  }
  return best ? { ok: true, cellId: best.cell.cellId } : { ok: false, reason: "no-capacity" };
}

function isBetter(
  a: { cell: CellRecord; fill: number; hash: number },
  b: { cell: CellRecord; fill: number; hash: number },
): boolean {
  if (a.fill !== b.fill) return a.fill < b.fill;
  if (a.hash !== b.hash) return a.hash < b.hash;
  return a.cell.cellId < b.cell.cellId;
}
