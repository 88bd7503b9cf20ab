import type { CellRecord, CellState } from "./cell-record.js";
import type {
  CellStateChange,
  CellStateCondition,
  CreateMigrationOutcome,
  FlipOutcome,
  MigrationPatch,
  MigrationRecord,
  MigrationState,
  MigrationStep,
  NewMigration,
  WalletRelocation,
} from "./migration-records.js";

/**
 * The control plane's placement data: which cells exist (the registry) and which
 * cell owns each user. The router reads it; onboarding and cellctl write it.
 * Two adapters (SQLite embedded, DynamoDB) implement this port and pass the
 * same contract tests.
 */

export type { CellEndpoint, CellRecord, CellState } from "./cell-record.js";

export interface UserPlacement {
  userId: string;
  cellId: string;
  /** Placement epoch: increases every time the user moves (migration fencing). Starts at 1. */
  epoch: number;
  placedAt: number;
  /** How the cell was chosen. */
  source: "policy" | "override";
}

export type PlaceUserOutcome =
  | { ok: true; placement: UserPlacement; created: boolean }
  | { ok: false; reason: "cell-full" | "cell-not-active" | "unknown-cell" };

export interface PlacementStore {
  listCells(): Promise<CellRecord[]>;
  getCell(cellId: string): Promise<CellRecord | undefined>;
  /** Creates or replaces a cell's registry record, keeping its `users` count when it exists. */
  putCell(cell: Omit<CellRecord, "users" | "updatedAt">): Promise<CellRecord>;
  getUserPlacement(userId: string): Promise<UserPlacement | undefined>;
  /**
   * Places an unplaced user in `cellId`, atomically with incrementing the cell's
   * user count within its capacity and only while the cell is active (an override
   * may also target a cordoned cell). If the user is already placed, returns the
   * existing placement with created=false: the first writer wins.
   */
  placeUser(userId: string, cellId: string, source: UserPlacement["source"]): Promise<PlaceUserOutcome>;
  /** Pinned cell for a user (tests, quarantine, special cases); beats the policy. */
  getOverride(userId: string): Promise<string | undefined>;
  setOverride(userId: string, cellId: string): Promise<void>;
  removeOverride(userId: string): Promise<void>;
  /** Every user placed in `cellId` (draining, rebalancing), ordered by userId. */
  listCellUsers(cellId: string): Promise<UserPlacement[]>;
  /** Records (or with undefined clears) a cell's measured capacity in ops/s; undefined when the cell is unknown. */
  setCellMaxOpsPerSecond(cellId: string, maxOpsPerSecond: number | undefined): Promise<CellRecord | undefined>;
  /** Changes a cell's state only when it is in one of `condition.from` (and, with requireEmpty, holds no user). */
  setCellState(cellId: string, to: CellState, condition: CellStateCondition): Promise<CellStateChange>;

  /**
   * Records a new migration and takes the user's migration lock, atomically, only while the user is
   * placed in the migration's source at its fromEpoch and no other migration holds the lock.
   */
  createMigration(input: NewMigration): Promise<CreateMigrationOutcome>;
  getMigration(migrationId: string): Promise<MigrationRecord | undefined>;
  /** The migration holding the user's lock (state running or rolling-back), if any. */
  activeMigration(userId: string): Promise<MigrationRecord | undefined>;
  /** Every migration, newest first. */
  listMigrations(): Promise<MigrationRecord[]>;
  /**
   * Applies `patch` only while the record is at `expected` step and state (undefined otherwise: someone
   * else moved it on). A final state (completed, rolled-back, failed) releases the user's lock in the
   * same write. Never used for the flip.
   */
  updateMigration(
    migrationId: string,
    expected: { step: MigrationStep; state: MigrationState },
    patch: MigrationPatch,
  ): Promise<MigrationRecord | undefined>;
  /**
   * The flip, ONE atomic write: the user's placement moves to the target at toEpoch (only from the source
   * at fromEpoch), both cells' user counts follow, the wallet's relocation is recorded, and the migration
   * goes from activated to flipped (only while running). Idempotent: a flipped migration answers ok.
   */
  flipPlacement(migrationId: string): Promise<FlipOutcome>;
  /** Where a moved wallet lives now; undefined for a wallet that never moved (its id's hint holds). */
  getRelocation(walletId: string): Promise<WalletRelocation | undefined>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
