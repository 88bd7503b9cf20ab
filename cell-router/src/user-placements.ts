import { onboardUser } from "@cellwallet/placement";
import {
  type DirectoryParts,
  evictBeyond,
  type Lookup,
  type Onboarding,
  touch,
  withTimeout,
} from "./directory-types.js";
import type { RouterState } from "./state-file.js";

interface CachedPlacement {
  cellId: string;
  epoch: number;
  /** When the store last confirmed it (epoch ms); 0 when it came from the state file. */
  confirmedAt: number;
}

/**
 * Users' cells: placements cached for ttlMs (least recently used evicted beyond cacheMax), served however old
 * while the store cannot be read, and onboarding of unplaced users (one at a time per user).
 */
export class UserPlacements {
  private readonly placements = new Map<string, CachedPlacement>();
  private readonly lookups = new Map<string, Promise<Lookup>>();
  private readonly onboardings = new Map<string, Promise<Onboarding>>();

  constructor(private readonly parts: DirectoryParts) {}

  /** The user's cell: from the cache while fresh, else from the store, else (store unreachable) from the cache however old. */
  lookup(userId: string): Promise<Lookup> {
    const { metrics, ttlMs } = this.parts.options;
    const cached = this.placements.get(userId);
    if (cached !== undefined) {
      touch(this.placements, userId, cached);
      if (this.parts.now() - cached.confirmedAt < ttlMs) {
        metrics.placementCache.inc({ result: "hit" });
        return Promise.resolve({ status: "placed", cellId: cached.cellId });
      }
      if (this.parts.health.down) {
        // Known unreachable: do not make a known user wait for a timeout.
        metrics.placementCache.inc({ result: "stale" });
        return Promise.resolve({ status: "placed", cellId: cached.cellId });
      }
    }
    let pending = this.lookups.get(userId);
    if (pending === undefined) {
      pending = this.readPlacement(userId).finally(() => this.lookups.delete(userId));
      this.lookups.set(userId, pending);
    }
    return pending;
  }

  private async readPlacement(userId: string): Promise<Lookup> {
    const { store, timeoutMs, metrics } = this.parts.options;
    try {
      const placement = await withTimeout(store.getUserPlacement(userId), timeoutMs, "getUserPlacement");
      this.parts.health.up();
      metrics.placementCache.inc({ result: "miss" });
      if (placement === undefined) {
        // The store is the authority: a placement it no longer has is gone.
        if (this.placements.delete(userId)) this.parts.changed();
        return { status: "unplaced" };
      }
      this.remember(userId, placement.cellId, placement.epoch);
      return { status: "placed", cellId: placement.cellId };
    } catch (error) {
      metrics.placementStoreErrors.inc({ operation: "getUserPlacement" });
      this.parts.health.failed(error);
      const cached = this.placements.get(userId);
      if (cached !== undefined) {
        metrics.placementCache.inc({ result: "stale" });
        return { status: "placed", cellId: cached.cellId };
      }
      return { status: "unavailable" };
    }
  }

  /** Drops what this router believes about a user: the next lookup asks the store. */
  forget(userId: string): void {
    const cached = this.placements.get(userId);
    if (cached !== undefined) this.placements.set(userId, { ...cached, confirmedAt: Number.NEGATIVE_INFINITY });
  }

  /** Places an unplaced user through the control plane (concurrent calls for one user share one onboarding). */
  onboard(userId: string): Promise<Onboarding> {
    let pending = this.onboardings.get(userId);
    if (pending === undefined) {
      pending = this.runOnboarding(userId).finally(() => this.onboardings.delete(userId));
      this.onboardings.set(userId, pending);
    }
    return pending;
  }

  private async runOnboarding(userId: string): Promise<Onboarding> {
    const { store, timeoutMs, metrics, logger, opsLoad, reachableCell } = this.parts.options;
    try {
      // Onboarding makes several store calls (placement, override, registry, conditional write).
      const result = await withTimeout(
        onboardUser(store, userId, {
          ...(opsLoad ? { load: opsLoad } : {}),
          ...(reachableCell ? { reachable: reachableCell } : {}),
        }),
        timeoutMs * 3,
        "onboardUser",
      );
      this.parts.health.up();
      if (!result.ok) {
        metrics.onboardings.inc({ outcome: "no-capacity" });
        logger.warn({ reason: result.reason }, "no cell can take a new user");
        return { status: "no-capacity" };
      }
      metrics.onboardings.inc({ outcome: "placed" });
      this.remember(userId, result.placement.cellId, result.placement.epoch);
      return { status: "placed", cellId: result.placement.cellId };
    } catch (error) {
      metrics.onboardings.inc({ outcome: "unavailable" });
      metrics.placementStoreErrors.inc({ operation: "onboardUser" });
      // Contention (PlacementContentionError) is transient but says nothing about reachability.
      if ((error as Error).name !== "PlacementContentionError") this.parts.health.failed(error);
      else logger.warn({ err: { message: (error as Error).message } }, "onboarding contention");
      return { status: "unavailable" };
    }
  }

  private remember(userId: string, cellId: string, epoch: number): void {
    const previous = this.placements.get(userId);
    if (previous === undefined || previous.cellId !== cellId || previous.epoch !== epoch) this.parts.changed();
    touch(this.placements, userId, { cellId, epoch, confirmedAt: this.parts.now() });
    evictBeyond(this.placements, this.parts.options.cacheMax);
  }

  /** Placements read back from the state file, unconfirmed (the store is asked again once they are stale). */
  restore(saved: RouterState["placements"]): void {
    for (const p of saved) {
      if (!this.placements.has(p.userId)) this.placements.set(p.userId, { ...p, confirmedAt: 0 });
    }
    evictBeyond(this.placements, this.parts.options.cacheMax);
  }

  snapshot(): RouterState["placements"] {
    return [...this.placements].map(([userId, p]) => ({ userId, cellId: p.cellId, epoch: p.epoch }));
  }
}
