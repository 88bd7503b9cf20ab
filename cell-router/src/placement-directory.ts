import { type CellRecord, type OpsLoad, onboardUser, type PlacementStore } from "@cellwallet/placement";
import type { Logger } from "pino";
import type { RouterMetrics } from "./metrics.js";
import { loadState, type RouterState, saveState } from "./state-file.js";

/**
 * What the router knows about cells and users, with bounded staleness and
 * static stability:
 *
 * - the registry (cells, endpoints, weights, states) is re-read every
 *   registryRefreshMs; when the store cannot be read, the last copy stays;
 * - a user's placement is cached for ttlMs, then read again; when the store
 *   cannot be read, the cached copy is served however old it is (counted as
 *   "stale") — a placed user stays routable through a placement-store outage;
 * - registry and known placements are saved (atomically, at most once per
 *   stateWriteIntervalMs) to a local file, read back at start, so a router that
 *   restarts during such an outage still knows them;
 * - only what needs the store itself fails while it is down: onboarding a new
 *   user, and finding the cell of a user this router never saw.
 */

/**
 * Which cell holds a wallet: `relocated` when the placement store says it moved, else the cell its id
 * names (`hint`). `stale`: the store could not be read and this is the best guess (the last-known-good
 * answer, or the hint); a wrong guess is safe: a cell that gave the wallet away answers 503 with
 * Wallet-Location and applies nothing.
 */
export type WalletLocation = { cellId: string; source: "relocated" | "hint"; stale: boolean };

export type Lookup = { status: "placed"; cellId: string } | { status: "unplaced" } | { status: "unavailable" };

export type Onboarding = { status: "placed"; cellId: string } | { status: "no-capacity" } | { status: "unavailable" };

/** A retired cell serves nothing: it counts as unknown. */
export type CellFinding = { status: "known"; cell: CellRecord } | { status: "unknown" } | { status: "unavailable" };

/** A registry read this recent is trusted to say that a cell does not exist. */
const RECENT_REGISTRY_MS = 1000;

export interface PlacementDirectoryOptions {
  store: PlacementStore;
  ttlMs: number;
  /** Longest wait for any one placement-store call before it counts as unreachable. */
  timeoutMs: number;
  registryRefreshMs: number;
  /** Most user placements kept in memory and in the state file (least recently used go first). */
  cacheMax: number;
  /** Where the last-known-good state is kept; undefined keeps it in memory only. */
  stateFile: string | undefined;
  stateWriteIntervalMs?: number;
  metrics: RouterMetrics;
  logger: Logger;
  /** Called with every registry read (from the store or the state file). */
  onRegistry?: (cells: readonly CellRecord[]) => void;
  /** Current ops/s per cell and the threshold above which onboarding skips a cell. */
  opsLoad?: OpsLoad;
  now?: () => number;
}

interface CachedPlacement {
  cellId: string;
  epoch: number;
  /** When the store last confirmed it (epoch ms); 0 when it came from the state file. */
  confirmedAt: number;
}

interface CachedRelocation {
  /** null: the store said the wallet never moved (a negative answer, cached too). */
  cellId: string | null;
  epoch: number;
  confirmedAt: number;
}

class StoreTimeout extends Error {
  override readonly name = "StoreTimeout";
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeout(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Registry content that matters for routing (user counts change with every onboarding and do not). */
function registrySignature(cells: readonly CellRecord[]): string {
  return JSON.stringify(cells.map((c) => [c.cellId, c.state, c.endpoints]));
}

export class PlacementDirectory {
  private registry: Map<string, CellRecord> | undefined;
  private registrySig = "";
  private registryReadAt = 0;
  private readonly placements = new Map<string, CachedPlacement>();
  private readonly lookups = new Map<string, Promise<Lookup>>();
  private readonly relocations = new Map<string, CachedRelocation>();
  private readonly relocationReads = new Map<string, Promise<WalletLocation>>();
  private readonly onboardings = new Map<string, Promise<Onboarding>>();
  private registryRead: Promise<boolean> | undefined;
  private storeDown = false;
  private dirty = false;
  private saving: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: PlacementDirectoryOptions) {
    this.now = options.now ?? Date.now;
    options.metrics.registryAgeSeconds = () =>
      this.registry === undefined ? undefined : Math.max(0, (this.now() - this.registryReadAt) / 1000);
  }

  /** Reads the saved state, then the registry from the store (tolerating failure), then keeps both fresh. */
  async start(): Promise<void> {
    const { stateFile, logger } = this.options;
    if (stateFile !== undefined) {
      try {
        const state = await loadState(stateFile);
        if (state) this.restore(state);
      } catch (error) {
        logger.warn({ err: { message: (error as Error).message }, stateFile }, "ignoring unreadable state file");
      }
    }
    await this.refreshRegistry();
    this.refreshTimer = setInterval(() => void this.refreshRegistry(), this.options.registryRefreshMs);
    this.refreshTimer.unref();
    this.saveTimer = setInterval(() => void this.save(), this.options.stateWriteIntervalMs ?? 1000);
    this.saveTimer.unref();
  }

  /** Stops the timers and writes what is not yet saved. */
  async stop(): Promise<void> {
    clearInterval(this.refreshTimer);
    clearInterval(this.saveTimer);
    await this.saving;
    await this.save();
  }

  /** True once a registry is known (read from the store or from the state file). */
  get ready(): boolean {
    return this.registry !== undefined;
  }

  get storeReachable(): boolean {
    return !this.storeDown;
  }

  cells(): CellRecord[] {
    return [...(this.registry?.values() ?? [])];
  }

  cell(cellId: string): CellRecord | undefined {
    return this.registry?.get(cellId);
  }

  /**
   * The cell named by a placement or an id's hint. A cell missing from the
   * registry may be newer than our copy: the registry is read again first
   * (unless it was read within the last second), and when it cannot be read the
   * answer is "unavailable", never a definitive "unknown".
   */
  async findCell(cellId: string): Promise<CellFinding> {
    const known = this.cell(cellId);
    if (known !== undefined && known.state !== "retired") return { status: "known", cell: known };
    const fresh = !this.storeDown && this.now() - this.registryReadAt < RECENT_REGISTRY_MS;
    if (!fresh && !(await this.refreshRegistry())) return { status: "unavailable" };
    const cell = this.cell(cellId);
    return cell !== undefined && cell.state !== "retired" ? { status: "known", cell } : { status: "unknown" };
  }

  /**
   * The cell a wallet-addressed request goes to. A location naming no serving cell is never trusted from
   * the cache: a relocation cached while the wallet was in a cell that has since been drained and retired
   * (the wallet moved on, the cell serves nothing) is read again from the store. "unknown" only when the
   * store itself says the wallet never moved and its id names no serving cell (then no cell holds it); a
   * relocation to a cell that serves nothing, or a store that cannot be read, is "unavailable" (503),
   * never a 404 for a wallet that exists.
   */
  async findWalletCell(walletId: string, hintCellId: string): Promise<CellFinding> {
    const first = await this.findCell((await this.locateWallet(walletId, hintCellId)).cellId);
    if (first.status !== "unknown") return first;
    this.forgetWallet(walletId);
    const located = await this.locateWallet(walletId, hintCellId);
    if (located.stale) return { status: "unavailable" };
    const found = await this.findCell(located.cellId);
    if (found.status === "unknown" && located.source === "relocated") return { status: "unavailable" };
    return found;
  }

  /** Reads the registry; concurrent callers share one read. False when the store could not be read. */
  refreshRegistry(): Promise<boolean> {
    this.registryRead ??= this.readRegistry().finally(() => {
      this.registryRead = undefined;
    });
    return this.registryRead;
  }

  private async readRegistry(): Promise<boolean> {
    const { store, timeoutMs, metrics } = this.options;
    try {
      const cells = await withTimeout(store.listCells(), timeoutMs, "listCells");
      this.storeUp();
      this.setRegistry(cells, this.now());
      return true;
    } catch (error) {
      metrics.placementStoreErrors.inc({ operation: "listCells" });
      this.storeFailed(error);
      return false;
    }
  }

  private setRegistry(cells: readonly CellRecord[], readAt: number): void {
    this.registry = new Map(cells.map((c) => [c.cellId, c]));
    this.registryReadAt = readAt;
    const sig = registrySignature(cells);
    if (sig !== this.registrySig) {
      this.registrySig = sig;
      this.dirty = true;
    }
    this.options.onRegistry?.(cells);
  }

  /** The user's cell: from the cache while fresh, else from the store, else (store unreachable) from the cache however old. */
  lookup(userId: string): Promise<Lookup> {
    const { metrics, ttlMs } = this.options;
    const cached = this.placements.get(userId);
    if (cached !== undefined) {
      this.touch(userId, cached);
      if (this.now() - cached.confirmedAt < ttlMs) {
        metrics.placementCache.inc({ result: "hit" });
        return Promise.resolve({ status: "placed", cellId: cached.cellId });
      }
      if (this.storeDown) {
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
    const { store, timeoutMs, metrics } = this.options;
    try {
      const placement = await withTimeout(store.getUserPlacement(userId), timeoutMs, "getUserPlacement");
      this.storeUp();
      metrics.placementCache.inc({ result: "miss" });
      if (placement === undefined) {
        // The store is the authority: a placement it no longer has is gone.
        if (this.placements.delete(userId)) this.dirty = true;
        return { status: "unplaced" };
      }
      this.remember(userId, placement.cellId, placement.epoch);
      return { status: "placed", cellId: placement.cellId };
    } catch (error) {
      metrics.placementStoreErrors.inc({ operation: "getUserPlacement" });
      this.storeFailed(error);
      const cached = this.placements.get(userId);
      if (cached !== undefined) {
        metrics.placementCache.inc({ result: "stale" });
        return { status: "placed", cellId: cached.cellId };
      }
      return { status: "unavailable" };
    }
  }

  /**
   * Where a wallet lives: a relocation from the cache while fresh (positive and negative answers alike,
   * ttlMs), else from the store, else (store unreachable) the cached answer however old, else the hint.
   */
  locateWallet(walletId: string, hintCellId: string): Promise<WalletLocation> {
    const { metrics, ttlMs } = this.options;
    const cached = this.relocations.get(walletId);
    const answer = (entry: CachedRelocation, stale: boolean): WalletLocation =>
      entry.cellId === null
        ? { cellId: hintCellId, source: "hint", stale }
        : { cellId: entry.cellId, source: "relocated", stale };
    if (cached !== undefined) {
      this.relocations.delete(walletId);
      this.relocations.set(walletId, cached);
      if (this.now() - cached.confirmedAt < ttlMs) {
        metrics.placementCache.inc({ result: "hit" });
        return Promise.resolve(answer(cached, false));
      }
      if (this.storeDown) {
        metrics.placementCache.inc({ result: "stale" });
        return Promise.resolve(answer(cached, true));
      }
    }
    let pending = this.relocationReads.get(walletId);
    if (pending === undefined) {
      pending = this.readRelocation(walletId, hintCellId).finally(() => this.relocationReads.delete(walletId));
      this.relocationReads.set(walletId, pending);
    }
    return pending;
  }

  private async readRelocation(walletId: string, hintCellId: string): Promise<WalletLocation> {
    const { store, timeoutMs, metrics } = this.options;
    try {
      const relocation = await withTimeout(store.getRelocation(walletId), timeoutMs, "getRelocation");
      this.storeUp();
      metrics.placementCache.inc({ result: "miss" });
      this.rememberRelocation(walletId, relocation?.cellId ?? null, relocation?.epoch ?? 0);
      return relocation
        ? { cellId: relocation.cellId, source: "relocated", stale: false }
        : { cellId: hintCellId, source: "hint", stale: false };
    } catch (error) {
      metrics.placementStoreErrors.inc({ operation: "getRelocation" });
      this.storeFailed(error);
      const cached = this.relocations.get(walletId);
      metrics.placementCache.inc({ result: "stale" });
      if (cached?.cellId) return { cellId: cached.cellId, source: "relocated", stale: true };
      // Static stability: route by the id's hint; a cell that gave the wallet away says where it went.
      return { cellId: hintCellId, source: "hint", stale: true };
    }
  }

  private rememberRelocation(walletId: string, cellId: string | null, epoch: number): void {
    const previous = this.relocations.get(walletId);
    if (previous === undefined || previous.cellId !== cellId || previous.epoch !== epoch) this.dirty = true;
    this.relocations.delete(walletId);
    this.relocations.set(walletId, { cellId, epoch, confirmedAt: this.now() });
    while (this.relocations.size > this.options.cacheMax) {
      const oldest = this.relocations.keys().next().value;
      if (oldest === undefined) break;
      this.relocations.delete(oldest);
    }
  }

  /**
   * Drops what this router believes about a wallet or a user, after a cell answered that it gave them
   * away (Wallet-Location): the next lookup asks the store.
   */
  forgetWallet(walletId: string): void {
    const cached = this.relocations.get(walletId);
    if (cached !== undefined) this.relocations.set(walletId, { ...cached, confirmedAt: Number.NEGATIVE_INFINITY });
  }

  forgetUser(userId: string): void {
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
    const { store, timeoutMs, metrics, logger } = this.options;
    try {
      // Onboarding makes several store calls (placement, override, registry, conditional write).
      const result = await withTimeout(
        onboardUser(store, userId, this.options.opsLoad ? { load: this.options.opsLoad } : {}),
        timeoutMs * 3,
        "onboardUser",
      );
      this.storeUp();
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
      if ((error as Error).name !== "PlacementContentionError") this.storeFailed(error);
      else logger.warn({ err: { message: (error as Error).message } }, "onboarding contention");
      return { status: "unavailable" };
    }
  }

  private remember(userId: string, cellId: string, epoch: number): void {
    const previous = this.placements.get(userId);
    if (previous === undefined || previous.cellId !== cellId || previous.epoch !== epoch) this.dirty = true;
    this.placements.delete(userId);
    this.placements.set(userId, { cellId, epoch, confirmedAt: this.now() });
    this.evict();
  }

  /** Map order is recency order: a used entry moves to the end. */
  private touch(userId: string, entry: CachedPlacement): void {
    this.placements.delete(userId);
    this.placements.set(userId, entry);
  }

  private evict(): void {
    while (this.placements.size > this.options.cacheMax) {
      const oldest = this.placements.keys().next().value;
      if (oldest === undefined) break;
      this.placements.delete(oldest);
    }
  }

  private storeUp(): void {
    if (this.storeDown) this.options.logger.info("placement store reachable again");
    this.storeDown = false;
  }

  private storeFailed(error: unknown): void {
    if (!this.storeDown) {
      this.options.logger.error(
        { err: { message: error instanceof Error ? error.message : String(error) } },
        "placement store unreachable; serving known users from the last-known-good copy",
      );
    }
    this.storeDown = true;
  }

  private restore(state: RouterState): void {
    if (this.registry === undefined) this.setRegistry(state.cells, state.savedAt);
    for (const p of state.placements) {
      if (!this.placements.has(p.userId)) this.placements.set(p.userId, { ...p, confirmedAt: 0 });
    }
    for (const r of state.relocations ?? []) {
      if (!this.relocations.has(r.walletId)) {
        this.relocations.set(r.walletId, { cellId: r.cellId, epoch: r.epoch, confirmedAt: 0 });
      }
    }
    this.evict();
    this.dirty = false;
    this.options.logger.info(
      {
        cells: state.cells.length,
        placements: state.placements.length,
        relocations: state.relocations?.length ?? 0,
        savedAt: new Date(state.savedAt).toISOString(),
      },
      "restored last-known-good state",
    );
  }

  /** Writes the state file when something changed since the last write (one write at a time). */
  save(): Promise<void> {
    const { stateFile, logger } = this.options;
    if (stateFile === undefined || !this.dirty || this.registry === undefined || this.saving) {
      return this.saving ?? Promise.resolve();
    }
    this.dirty = false;
    const state: RouterState = {
      version: 1,
      savedAt: this.registryReadAt,
      cells: this.cells(),
      placements: [...this.placements].map(([userId, p]) => ({ userId, cellId: p.cellId, epoch: p.epoch })),
      relocations: [...this.relocations].map(([walletId, r]) => ({ walletId, cellId: r.cellId, epoch: r.epoch })),
    };
    this.saving = saveState(stateFile, state)
      .catch((error: Error) => {
        this.dirty = true;
        logger.warn({ err: { message: error.message }, stateFile }, "could not save the state file");
      })
      .finally(() => {
        this.saving = undefined;
      });
    return this.saving;
  }
}
