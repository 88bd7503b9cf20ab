import type { OpsLoad } from "./ops-headroom.js";
import { choosePlacementCell, type PlacementChoice } from "./placement-policy.js";
import { assertUserId, PlacementContentionError } from "./placement-rules.js";
import type { CellRecord, PlacementStore, UserPlacement } from "./placement-store.js";

export type OnboardResult = { ok: true; placement: UserPlacement } | { ok: false; reason: "no-capacity" };

export interface OnboardOptions {
  /** Policy rounds (list cells, choose, place) before giving up on a registry that keeps changing. */
  maxAttempts?: number;
  /** Current ops/s per cell and the threshold: the policy skips cells above it (an override still pins). */
  load?: OpsLoad;
  /**
   * Whether the caller can reach at least one replica of the cell right now. A new user placed in a cell that is
   * down would get nothing but 503s until it is back (a placement is sticky), so the policy prefers reachable
   * cells; only when none of them has room does it choose among the rest, as without this option.
   */
  reachable?: (cellId: string) => boolean;
}

const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * Finds or makes the user's placement. The control plane's code: the router
 * calls it in-process and never computes a placement itself.
 *
 * Order: an existing placement wins; then an override, which pins the user
 * (if its cell cannot take the user the answer is no-capacity, never a silent
 * fallback to the policy — an override is often a quarantine); then the policy,
 * over the cells the caller can reach first (options.reachable).
 * placeUser is the arbiter: when another onboarding filled the chosen cell or
 * the cell stopped being active in between, the registry is read again and the
 * choice made afresh. Throws PlacementContentionError when that keeps happening
 * past the budget (transient: the caller may answer 503 and let the client retry).
 */
export async function onboardUser(
  store: PlacementStore,
  userId: string,
  options: OnboardOptions = {},
): Promise<OnboardResult> {
  assertUserId(userId);
  const existing = await store.getUserPlacement(userId);
  if (existing) return { ok: true, placement: existing };

  const pinned = await store.getOverride(userId);
  if (pinned !== undefined) {
    const outcome = await store.placeUser(userId, pinned, "override");
    return outcome.ok ? { ok: true, placement: outcome.placement } : { ok: false, reason: "no-capacity" };
  }

  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const choice = choose(await store.listCells(), userId, options);
    if (!choice.ok) {
      // A concurrent onboarding of this same user may have taken the last slot: its placement is the answer.
      const placed = await store.getUserPlacement(userId);
      return placed ? { ok: true, placement: placed } : choice;
    }
    const outcome = await store.placeUser(userId, choice.cellId, "policy");
    if (outcome.ok) return { ok: true, placement: outcome.placement };
    // cell-full, cell-not-active, unknown-cell: the registry moved under us; look again.
  }
  throw new PlacementContentionError(`onboarding ${userId}: the chosen cell changed ${maxAttempts} times in a row`);
}

/** The policy over the reachable cells first, then over all of them. */
function choose(cells: readonly CellRecord[], userId: string, options: OnboardOptions): PlacementChoice {
  const { reachable, load } = options;
  if (reachable !== undefined) {
    const choice = choosePlacementCell(
      cells.filter((cell) => reachable(cell.cellId)),
      userId,
      load,
    );
    if (choice.ok) return choice;
  }
  return choosePlacementCell(cells, userId, load);
}
