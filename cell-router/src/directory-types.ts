import type { CellRecord, OpsLoad, PlacementStore } from "@cellwallet/placement";
import type { Logger } from "pino";
import type { RouterMetrics } from "./metrics.js";

/** The placement directory's answers and options (placement-directory.ts). */

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
  /** Whether this router can reach a replica of the cell now: onboarding prefers cells it can (onboard-user.ts). */
  reachableCell?: (cellId: string) => boolean;
  now?: () => number;
}

/** What the directory's caches share: its options, the store's health, the clock, and "something changed". */
export interface DirectoryParts {
  options: PlacementDirectoryOptions;
  health: StoreHealth;
  now: () => number;
  /** Marks the state file out of date. */
  changed: () => void;
}

/** Whether the placement store answered the last call; logs each transition once. */
export class StoreHealth {
  down = false;

  constructor(private readonly logger: Logger) {}

  up(): void {
    if (this.down) this.logger.info("placement store reachable again");
    this.down = false;
  }

  failed(error: unknown): void {
    if (!this.down) {
      this.logger.error(
        { err: { message: error instanceof Error ? error.message : String(error) } },
        "placement store unreachable; serving known users from the last-known-good copy",
      );
    }
    this.down = true;
  }
}

class StoreTimeout extends Error {
  override readonly name = "StoreTimeout";
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreTimeout(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Map order is recency order: a used entry moves to the end, and the oldest go first beyond `max`. */
export function touch<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
}

export function evictBeyond<V>(map: Map<string, V>, max: number): void {
  while (map.size > max) {
    const oldest = map.keys().next().value;
    if (oldest === undefined) break;
    map.delete(oldest);
  }
}
