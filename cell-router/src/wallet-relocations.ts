import { type DirectoryParts, evictBeyond, touch, type WalletLocation, withTimeout } from "./directory-types.js";
import type { RouterState } from "./state-file.js";

interface CachedRelocation {
  /** null: the store said the wallet never moved (a negative answer, cached too). */
  cellId: string | null;
  epoch: number;
  confirmedAt: number;
}

/**
 * Where wallets live: the placement store's relocations (a wallet moved with its user keeps its id), cached
 * for ttlMs, negative answers too; while the store cannot be read, the cached answer however old, else the
 * cell the wallet's id names.
 */
export class WalletRelocations {
  private readonly relocations = new Map<string, CachedRelocation>();
  private readonly reads = new Map<string, Promise<WalletLocation>>();

  constructor(private readonly parts: DirectoryParts) {}

  /**
   * Where a wallet lives: a relocation from the cache while fresh (positive and negative answers alike,
   * ttlMs), else from the store, else (store unreachable) the cached answer however old, else the hint.
   */
  locate(walletId: string, hintCellId: string): Promise<WalletLocation> {
    const { metrics, ttlMs } = this.parts.options;
    const cached = this.relocations.get(walletId);
    const answer = (entry: CachedRelocation, stale: boolean): WalletLocation =>
      entry.cellId === null
        ? { cellId: hintCellId, source: "hint", stale }
        : { cellId: entry.cellId, source: "relocated", stale };
    if (cached !== undefined) {
      touch(this.relocations, walletId, cached);
      if (this.parts.now() - cached.confirmedAt < ttlMs) {
        metrics.placementCache.inc({ result: "hit" });
        return Promise.resolve(answer(cached, false));
      }
      if (this.parts.health.down) {
        metrics.placementCache.inc({ result: "stale" });
        return Promise.resolve(answer(cached, true));
      }
    }
    let pending = this.reads.get(walletId);
    if (pending === undefined) {
      pending = this.read(walletId, hintCellId).finally(() => this.reads.delete(walletId));
      this.reads.set(walletId, pending);
    }
    return pending;
  }

  private async read(walletId: string, hintCellId: string): Promise<WalletLocation> {
    const { store, timeoutMs, metrics } = this.parts.options;
    try {
      const relocation = await withTimeout(store.getRelocation(walletId), timeoutMs, "getRelocation");
      this.parts.health.up();
      metrics.placementCache.inc({ result: "miss" });
      this.remember(walletId, relocation?.cellId ?? null, relocation?.epoch ?? 0);
      return relocation
        ? { cellId: relocation.cellId, source: "relocated", stale: false }
        : { cellId: hintCellId, source: "hint", stale: false };
    } catch (error) {
      metrics.placementStoreErrors.inc({ operation: "getRelocation" });
      this.parts.health.failed(error);
      const cached = this.relocations.get(walletId);
      metrics.placementCache.inc({ result: "stale" });
      if (cached?.cellId) return { cellId: cached.cellId, source: "relocated", stale: true };
      // Static stability: route by the id's hint; a cell that gave the wallet away says where it went.
      return { cellId: hintCellId, source: "hint", stale: true };
    }
  }

  private remember(walletId: string, cellId: string | null, epoch: number): void {
    const previous = this.relocations.get(walletId);
    if (previous === undefined || previous.cellId !== cellId || previous.epoch !== epoch) this.parts.changed();
    touch(this.relocations, walletId, { cellId, epoch, confirmedAt: this.parts.now() });
    evictBeyond(this.relocations, this.parts.options.cacheMax);
  }

  /** Drops what this router believes about a wallet: the next lookup asks the store. */
  forget(walletId: string): void {
    const cached = this.relocations.get(walletId);
    if (cached !== undefined) this.relocations.set(walletId, { ...cached, confirmedAt: Number.NEGATIVE_INFINITY });
  }

  /** Relocations read back from the state file, unconfirmed. */
  restore(saved: NonNullable<RouterState["relocations"]>): void {
    for (const r of saved) {
      if (!this.relocations.has(r.walletId)) {
        this.relocations.set(r.walletId, { cellId: r.cellId, epoch: r.epoch, confirmedAt: 0 });
      }
    }
  }

  snapshot(): NonNullable<RouterState["relocations"]> {
    return [...this.relocations].map(([walletId, r]) => ({ walletId, cellId: r.cellId, epoch: r.epoch }));
  }
}
