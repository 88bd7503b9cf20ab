/**
 * What the placement store keeps about user migrations (moving a user's wallet
 * from one cell to another) and about wallets that moved. The orchestration
 * rules (which step comes next, what a rollback means) are in ../migration; the
 * store only persists records and makes each transition conditional, so two
 * cellctl processes can never both drive one migration.
 */
import type { CellRecord, CellState } from "./cell-record.js";

/**
 * The last step a migration COMPLETED, in order. `planned`: recorded, nothing
 * done in the cells yet; `moved`: the source copy is read-only (final).
 */
export const MIGRATION_STEPS = [
  "planned",
  "cloned",
  "frozen",
  "settled",
  "tail-copied",
  "activated",
  "flipped",
  "moved",
] as const;
export type MigrationStep = (typeof MIGRATION_STEPS)[number];

/** running and rolling-back hold the user's migration lock; the others are final. */
export const MIGRATION_STATES = ["running", "rolling-back", "completed", "rolled-back", "failed"] as const;
export type MigrationState = (typeof MIGRATION_STATES)[number];

export function isFinalState(state: MigrationState): boolean {
  return state !== "running" && state !== "rolling-back";
}

export interface MigrationRecord {
  migrationId: string;
  userId: string;
  /** The user's wallet; null while the user has none (a user without a wallet can be moved too). */
  walletId: string | null;
  sourceCellId: string;
  targetCellId: string;
  /** The placement epoch the source owns the user at; the target takes over at toEpoch = fromEpoch + 1. */
  fromEpoch: number;
  toEpoch: number;
  step: MigrationStep;
  state: MigrationState;
  /** Who started it (operator audit trail name). */
  actor: string;
  /** Export cursor where the last import into the target stopped (the tail copy continues from it). */
  cursor: string | null;
  /** The source's frozen head, which the target's copy must end at. */
  expectedVersion: number | null;
  expectedHeadHash: string | null;
  /** Epoch ms when the freeze was sent; the write pause runs from here to `moved`. */
  frozenAt: number | null;
  /** Measured write pause (freeze sent → source marked moved), ms. */
  pauseMs: number | null;
  /** Why it failed or was rolled back. */
  error: string | null;
  /** Bumped by every write: the store's optimistic concurrency token. */
  revision: number;
  createdAt: number;
  updatedAt: number;
}

export type NewMigration = Pick<
  MigrationRecord,
  "migrationId" | "userId" | "walletId" | "sourceCellId" | "targetCellId" | "fromEpoch" | "actor"
>;

/** Fields a transition may change (never the identity of the move). */
export type MigrationPatch = Partial<
  Pick<
    MigrationRecord,
    "step" | "state" | "walletId" | "cursor" | "expectedVersion" | "expectedHeadHash" | "frozenAt" | "pauseMs" | "error"
  >
>;

export type CreateMigrationOutcome =
  | { ok: true; migration: MigrationRecord }
  | {
      ok: false;
      /** user-migrating: another migration holds the lock; placement-changed: the user is no longer at source/fromEpoch. */
      reason: "user-migrating" | "placement-changed" | "migration-exists";
      migration?: MigrationRecord;
    };

export type FlipOutcome =
  | { ok: true; migration: MigrationRecord }
  /** The record is not at `activated`/running any more, or the placement is not the source's at fromEpoch. */
  | {
      ok: false;
      /**
       * target-retired: the target was retired meanwhile (a retired cell serves nobody): roll back.
       * target-full: onboarding filled the target to its capacity since the plan: roll back.
       */
      reason: "step-changed" | "placement-changed" | "target-retired" | "target-full";
      migration?: MigrationRecord;
    };

/** Where a wallet moved: the router consults it for wallet-addressed requests. */
export interface WalletRelocation {
  walletId: string;
  userId: string;
  cellId: string;
  epoch: number;
  movedAt: number;
}

/** Conditions of a cell state change: it must be in one of `from`; `requireEmpty`: no user placed there. */
export interface CellStateCondition {
  from: readonly CellState[];
  requireEmpty?: boolean;
}

export type CellStateChange =
  | { ok: true; cell: CellRecord; changed: boolean }
  | { ok: false; reason: "unknown-cell" | "wrong-state" | "not-empty" };

export function newMigrationRecord(input: NewMigration, now: number): MigrationRecord {
  return {
    ...input,
    toEpoch: input.fromEpoch + 1,
    step: "planned",
    state: "running",
    cursor: null,
    expectedVersion: null,
    expectedHeadHash: null,
    frozenAt: null,
    pauseMs: null,
    error: null,
    revision: 1,
    createdAt: now,
    updatedAt: now,
  };
}

export function applyPatch(record: MigrationRecord, patch: MigrationPatch, now: number): MigrationRecord {
  const next: MigrationRecord = { ...record, revision: record.revision + 1, updatedAt: now };
  for (const [key, value] of Object.entries(patch)) {
    if (value !== undefined) (next as unknown as Record<string, unknown>)[key] = value;
  }
  return next;
}

const MIGRATION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function assertMigrationId(id: string): void {
  if (!MIGRATION_ID.test(id)) throw new Error(`invalid migrationId ${JSON.stringify(id)}`);
}

/** Stored records are JSON in both adapters; one that does not parse back into this shape is corruption. */
export function decodeMigration(text: string): MigrationRecord {
  const r = JSON.parse(text) as MigrationRecord;
  const ok =
    typeof r === "object" &&
    r !== null &&
    typeof r.migrationId === "string" &&
    typeof r.userId === "string" &&
    typeof r.sourceCellId === "string" &&
    typeof r.targetCellId === "string" &&
    Number.isSafeInteger(r.fromEpoch) &&
    Number.isSafeInteger(r.toEpoch) &&
    Number.isSafeInteger(r.revision) &&
    (MIGRATION_STEPS as readonly string[]).includes(r.step) &&
    (MIGRATION_STATES as readonly string[]).includes(r.state);
  if (!ok) throw new Error("malformed migration record");
  return r;
}
