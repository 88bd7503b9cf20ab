/**
 * Which copy of a wallet a cell holds, and at which placement epoch. Only an
 * `active` copy accepts writes; the stores check it inside the atomic write, so
 * a write racing a freeze either commits before it or is refused.
 *
 * - `active`: this cell owns the wallet.
 * - `frozen`: the source of a migration fenced it: no writes, reads still served.
 * - `moved`: the source after the flip: read-only, kept for audit; `peerCellId` owns it now.
 * - `importing`: a copy being built in the target; invisible and never writable.
 * - `abandoned`: an import rolled back; invisible. A later import continues from its stored prefix.
 */
export type OwnershipState = "active" | "frozen" | "moved" | "importing" | "abandoned";

export interface Ownership {
  state: OwnershipState;
  /** The placement epoch at which this cell holds the copy. */
  epoch: number;
  /** The migration that put the copy in this state (absent for a wallet created here). */
  migrationId?: string;
  /** `moved`/`frozen`: the target cell; `importing`: the source cell. */
  peerCellId?: string;
}

/** Every wallet created in a cell, and every wallet that existed before migrations, is active at epoch 1. */
export const FIRST_EPOCH = 1;
export const activeAtFirstEpoch = (): Ownership => ({ state: "active", epoch: FIRST_EPOCH });

/** Copies a cell counts in its totals (verification, checkpoints, reconciliation): the ones it owns. */
export function isOwned(state: OwnershipState): boolean {
  return state === "active" || state === "frozen";
}

/** Why a write (or a read of a moved wallet) was refused, with what the caller needs to answer. */
export interface Fence {
  state: Exclude<OwnershipState, "active">;
  walletId?: string;
  userId?: string;
  /** The cell that owns the wallet now (state `moved`). */
  movedTo?: string;
}

/**
 * A user-level fence, for users without a wallet: a stale router must not be
 * able to create a wallet for a user whose placement moved on.
 */
export interface UserFence {
  userId: string;
  state: "frozen" | "moved";
  epoch: number;
  migrationId: string;
  targetCellId: string;
}

/** The fence a copy in `ownership` puts up for writes, or undefined when writes may go ahead. */
export function writeFence(walletId: string, ownership: Ownership, allowFrozen = false): Fence | undefined {
  if (ownership.state === "active") return undefined;
  if (ownership.state === "frozen" && allowFrozen) return undefined;
  return {
    state: ownership.state,
    walletId,
    ...(ownership.state === "moved" && ownership.peerCellId !== undefined ? { movedTo: ownership.peerCellId } : {}),
  };
}
