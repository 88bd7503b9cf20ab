import type { CellRecord } from "@cellwallet/placement";
import {
  type CellFinding,
  type DirectoryParts,
  type Lookup,
  type Onboarding,
  type PlacementDirectoryOptions,
  StoreHealth,
  type WalletLocation,
  withTimeout,
} from "./directory-types.js";
import { loadState, type RouterState, saveState } from "./state-file.js";
import { UserPlacements } from "./user-placements.js";
import { WalletRelocations } from "./wallet-relocations.js";

export type { CellFinding, Lookup, Onboarding, PlacementDirectoryOptions, WalletLocation } from "./directory-types.js";

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

/** A registry read this recent is trusted to say that a cell does not exist. */
const RECENT_REGISTRY_MS = 1000;

/** Registry content that matters for routing (user counts change with every onboarding and do not). */
function registrySignature(cells: readonly CellRecord[]): string {
  return JSON.stringify(cells.map((c) => [c.cellId, c.state, c.endpoints]));
}

/**
 * The registry and the state file are kept here; users' placements in user-placements.ts, wallets'
 * relocations in wallet-relocations.ts.
 */
export class PlacementDirectory {
  private registry: Map<string, CellRecord> | undefined;
  private registrySig = "";
  private registryReadAt = 0;
  private registryRead: Promise<boolean> | undefined;
  private readonly health: StoreHealth;
  private readonly users: UserPlacements;
  private readonly wallets: WalletRelocations;
  private dirty = false;
  private saving: Promise<void> | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: PlacementDirectoryOptions) {
    this.now = options.now ?? Date.now;
    this.health = new StoreHealth(options.logger);
    const parts: DirectoryParts = {
      options,
      health: this.health,
      now: this.now,
      changed: () => {
        this.dirty = true;
      },
    };
    this.users = new UserPlacements(parts);
    this.wallets = new WalletRelocations(parts);
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
    return !this.health.down;
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
    const fresh = !this.health.down && this.now() - this.registryReadAt < RECENT_REGISTRY_MS;
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
      this.health.up();
      this.setRegistry(cells, this.now());
      return true;
    } catch (error) {
      metrics.placementStoreErrors.inc({ operation: "listCells" });
      this.health.failed(error);
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
    return this.users.lookup(userId);
  }

  /** Places an unplaced user through the control plane (concurrent calls for one user share one onboarding). */
  onboard(userId: string): Promise<Onboarding> {
    return this.users.onboard(userId);
  }

  /** Where a wallet lives: its relocation (cached, negative answers too), else the cell its id names. */
  locateWallet(walletId: string, hintCellId: string): Promise<WalletLocation> {
    return this.wallets.locate(walletId, hintCellId);
  }

  /**
   * Drops what this router believes about a wallet or a user, after a cell answered that it gave them
   * away (Wallet-Location): the next lookup asks the store.
   */
  forgetWallet(walletId: string): void {
    this.wallets.forget(walletId);
  }

  forgetUser(userId: string): void {
    this.users.forget(userId);
  }

  private restore(state: RouterState): void {
    if (this.registry === undefined) this.setRegistry(state.cells, state.savedAt);
    this.users.restore(state.placements);
    this.wallets.restore(state.relocations ?? []);
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
      placements: this.users.snapshot(),
      relocations: this.wallets.snapshot(),
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
