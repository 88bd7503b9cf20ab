import { isFinalState, MIGRATION_STEPS, type MigrationRecord, type MigrationStep } from "@cellwallet/placement";

/**
 * The migration state machine (the whitepaper's clone → flip → redirect →
 * forget). Pure: from a persisted record it says what to do next, and what a
 * rollback has to undo. The orchestrator does the I/O and persists each step
 * only after its action succeeded, so every action must be idempotent: a crash
 * after the action and before the write repeats the action on resume.
 *
 *   planned      -> clone:     export from the source while the user stays live, import into the target
 *   cloned       -> freeze:    fence the user's writes in the source at fromEpoch (clients get 503 + Retry-After)
 *   frozen       -> settle:    settle the user's outgoing pending cross-cell transfers (bounded)
 *   settled      -> copy-tail: export what changed since the clone, import it
 *   tail-copied  -> activate:  the target verifies the whole chain ends at the frozen head; owns it at toEpoch
 *   activated    -> flip:      placement (cell, epoch), user counts, relocation: one atomic write
 *   flipped      -> mark-moved: the source copy becomes read-only (answers Wallet-Location); the pause ends
 *   moved        -> done
 *
 * The wallet is never writable in two cells: the source stops accepting writes
 * (freeze) before the target may accept any (activate), and the target is
 * reachable only after the flip.
 */

export type MigrationAction =
  | "clone"
  | "freeze"
  | "settle"
  | "copy-tail"
  | "activate"
  | "flip"
  | "mark-moved"
  | "rollback"
  | "done";

const FORWARD: Record<MigrationStep, MigrationAction> = {
  planned: "clone",
  cloned: "freeze",
  frozen: "settle",
  settled: "copy-tail",
  "tail-copied": "activate",
  activated: "flip",
  flipped: "mark-moved",
  moved: "done",
};

/** The step an action completes. */
export const COMPLETES: Partial<Record<MigrationAction, MigrationStep>> = {
  clone: "cloned",
  freeze: "frozen",
  settle: "settled",
  "copy-tail": "tail-copied",
  activate: "activated",
  flip: "flipped",
  "mark-moved": "moved",
};

export function stepIndex(step: MigrationStep): number {
  return MIGRATION_STEPS.indexOf(step);
}

/** What a driver does next from a persisted record (a rolling-back record continues its rollback). */
export function nextAction(record: Pick<MigrationRecord, "step" | "state">): MigrationAction {
  if (record.state === "rolling-back") return "rollback";
  if (isFinalState(record.state)) return "done";
  return FORWARD[record.step];
}

/**
 * The last step from which a rollback is possible: before the flip. An activated target copy is still
 * unreachable then (placement and relocations name the source, which is frozen, not moved, so it never
 * sends anyone to the target), and the cell abandons it only if nothing was written to it since.
 */
export const LAST_ROLLBACK_STEP: MigrationStep = "activated";

export type RollbackPlan =
  | {
      ok: true;
      /**
       * Undo in this order: drop the target's importing copy first (it never accepted writes), then let the
       * source accept writes again. Both are idempotent and harmless when there is nothing to undo (a crash
       * may have happened between an action and its step write, so the source may be frozen at "cloned").
       */
      undo: readonly ("abandon-target" | "unfreeze-source")[];
    }
  | { ok: false; reason: string };

/**
 * What rolling back means from a record. Possible until the flip: before it the source is the owner the
 * whole platform routes to (frozen at worst), and marking the record rolling-back makes the flip
 * impossible (it is conditional on a running record at "activated"). From "flipped" on only forward: a
 * flipped user may already have written in the target.
 */
export function rollbackPlan(record: Pick<MigrationRecord, "step" | "state">): RollbackPlan {
  if (record.state === "rolled-back") return { ok: true, undo: [] };
  if (isFinalState(record.state)) return { ok: false, reason: `the migration is already ${record.state}` };
  if (stepIndex(record.step) > stepIndex(LAST_ROLLBACK_STEP)) {
    return {
      ok: false,
      reason: `the migration is past "${LAST_ROLLBACK_STEP}" (at "${record.step}"): the placement names the target, only --resume can finish it`,
    };
  }
  return { ok: true, undo: ["abandon-target", "unfreeze-source"] };
}

/** Whether the user's writes are paused at this step (freeze sent, source not yet marked moved). */
export function writesPaused(record: Pick<MigrationRecord, "step" | "state">): boolean {
  const i = stepIndex(record.step);
  return !isFinalState(record.state) && i >= stepIndex("frozen") && i < stepIndex("moved");
}

/** Why a new migration may not start, or undefined. Pure rules on what the registry says. */
export function planRefusal(input: {
  userPlacedIn: string | undefined;
  target: { cellId: string; state: string; users: number; capacity: number } | undefined;
  active: Pick<MigrationRecord, "migrationId"> | undefined;
}): string | undefined {
  const { userPlacedIn, target, active } = input;
  if (userPlacedIn === undefined) return "the user is not placed in any cell (nothing to move)";
  if (active) return `the user is already being migrated (${active.migrationId}): use --resume or --rollback`;
  if (target === undefined) return "unknown target cell";
  if (target.cellId === userPlacedIn) return `the user is already in ${target.cellId}`;
  if (target.state !== "active") return `the target cell is ${target.state}: only an active cell takes users`;
  if (!(target.users < target.capacity)) return `the target cell is full (${target.users}/${target.capacity})`;
  return undefined;
}
