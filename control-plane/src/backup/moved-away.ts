import type { BackupManifest, LedgerStore } from "@cellwallet/cell-service";
import { type MovedAway, type RestoreCellDeps, RestoreFailure } from "./restore-types.js";

/**
 * The wallets the backup holds as the cell's own (active or frozen) that the placement store has since
 * relocated to another cell (a `cellctl users migrate`, drain or rebalance after the backup). Restored as
 * they are, they would be a second live copy of a wallet another cell owns: counted twice by verification
 * and reconciliation, and credited by same-cell transfers the owner never sees. Two histories must not mix.
 */
export async function movedAwaySince(
  deps: RestoreCellDeps,
  manifest: BackupManifest,
  cellId: string,
): Promise<MovedAway[]> {
  const owned = manifest.heads.filter((h) => h.state === "active" || h.state === "frozen");
  let relocations: Map<string, { cellId: string; epoch: number }>;
  try {
    relocations = await deps.relocationsOf(owned.map((h) => h.walletId));
  } catch (error) {
    throw new RestoreFailure(`cannot read the wallets' relocations: ${(error as Error).message}`, "usage");
  }
  return owned.flatMap((h) => {
    const moved = relocations.get(h.walletId);
    if (!moved || moved.cellId === cellId) return [];
    return [{ walletId: h.walletId, state: h.state as MovedAway["state"], cellId: moved.cellId, epoch: moved.epoch }];
  });
}

/** Marks those wallets `moved` in the restored copy, as the source of a migration keeps them: read-only history. */
export function markMovedAway(movedAway: readonly MovedAway[]): (store: LedgerStore) => Promise<void> {
  return async (store) => {
    for (const w of movedAway) {
      const next = { state: "moved" as const, epoch: w.epoch, peerCellId: w.cellId, migrationId: "restore" };
      if (!(await store.setWalletOwnership(w.walletId, { state: w.state }, next))) {
        throw new Error(`could not mark ${w.walletId} as moved to ${w.cellId} in the restored copy`);
      }
    }
  };
}
