import type { KeyObject } from "node:crypto";
import type { BackupManifest, LossReport, ReferenceHead } from "@cellwallet/cell-service";
import type { CellRecord } from "@cellwallet/placement";

/** What restoring a cell from a backup needs and reports (`cellctl backup restore` is its shell). */

export type CellService = typeof import("@cellwallet/cell-service");
export type TrustedKeys = Map<string, KeyObject>;

export interface RestoreCellRequest {
  /** The backup's directory (resolved). */
  backupDir: string;
  /** The cell to restore: must be the backup's own cell. */
  cellId: string;
  /** Replace an existing ledger, also of a live cell run by the local launcher. */
  force: boolean;
  /** A later exported checkpoint (cellctl checkpoints --export) to measure the loss against. */
  checkpointFile?: string;
  /** DynamoDB backups: restore as new tables under this prefix. */
  tablePrefix?: string;
}

/** Everything environment-bound the restore reaches, so that the use case is testable without the CLI. */
export interface RestoreCellDeps {
  /** The cell service's backup code (the CLI loads it lazily to keep its other commands fast). */
  cellService: CellService;
  getCell(cellId: string): Promise<CellRecord | undefined>;
  trustedCheckpointKeys(): Promise<TrustedKeys>;
  ledgerPathOf(cellId: string): string;
  /** The replicas of `cell` that answer /ready now. */
  liveReplicas(cell: CellRecord, timeoutMs?: number): Promise<string[]>;
  /** The pids the local launcher runs for `cellId`; undefined when no launcher runs here. */
  launcherPidsOf(cellId: string): number[] | undefined;
  /** Tells the launcher these pids are killed on purpose (it restarts them without counting a crash). */
  announceKills(pids: readonly number[], reason: string): void;
  /** Records the restore in the operator audit trail; called before anything changes. */
  recordRestore(cellId: string, details: Record<string, unknown>): Promise<void>;
  dynamoDbClient(): Promise<ReturnType<CellService["createDynamoDbClient"]>>;
  /** The placement store's relocations of these wallets (the ones that moved to another cell at some point). */
  relocationsOf(walletIds: readonly string[]): Promise<Map<string, { cellId: string; epoch: number }>>;
  /** The users whose last completed move brought them into `cellId`, with their wallet and where it came from. */
  movesInto(cellId: string): Promise<MovedIn[]>;
}

/** A wallet whose user was migrated into the cell (`cellctl backup recover-migrated` brings it back if missing). */
export interface MovedIn {
  userId: string;
  walletId: string;
  sourceCellId: string;
}

/** A wallet the backup holds as this cell's that moved to another cell after the backup was taken. */
export interface MovedAway {
  walletId: string;
  /** Its state in the backup (active or frozen). */
  state: "active" | "frozen";
  cellId: string;
  epoch: number;
}

/** What both restore paths start from: the backup read and verified, the loss reference, the wallets moved away. */
export interface VerifiedBackup {
  manifest: BackupManifest;
  reference: LossReference | undefined;
  trusted: TrustedKeys;
  movedAway: MovedAway[];
}

/** A restore that did not happen (nothing changed): a usage error (exit 2) or refused by the rules (exit 1). */
export class RestoreFailure extends Error {
  constructor(
    message: string,
    readonly kind: "usage" | "refused",
  ) {
    super(message);
    this.name = "RestoreFailure";
  }
}

/** The later state the loss is measured against: an exported checkpoint, or the replaced ledger. */
export interface LossReference {
  heads: ReferenceHead[];
  reference: string;
  atMs: number | null;
  /** The reference holds every write up to the restore (the replaced ledger), not only those up to atMs. */
  complete: boolean;
}

interface Restored {
  cellId: string;
  backupDir: string;
  manifest: BackupManifest;
  /** Undefined when there was no later reference to measure against. */
  loss: LossReport | undefined;
  /** Restored read-only (moved), because another cell owns them now. */
  movedAway: MovedAway[];
  /** Migrated into the cell after the backup, so not in it: `cellctl backup recover-migrated` brings them back. */
  migratedIn: MovedIn[];
}

export interface SqliteRestored extends Restored {
  store: "sqlite";
  /** The files moved aside (never deleted), into replacedDir. */
  replaced: string[];
  replacedDir: string;
  /** Whether the launcher's restarted processes became ready; undefined when no launcher ran the cell. */
  restartedReady: boolean | undefined;
}

export interface DynamoDbRestored extends Restored {
  store: "dynamodb";
  tablePrefix: string;
  tables: Record<string, string>;
}

export type RestoredCell = SqliteRestored | DynamoDbRestored;
