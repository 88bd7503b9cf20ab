import { randomBytes } from "node:crypto";
import { MIGRATION_EXPORT_DEFAULT_LIMIT, type MigrationWalletStatus } from "@cellwallet/contract";
import type { CellRecord, MigrationPatch, MigrationRecord, PlacementStore } from "@cellwallet/placement";
import { withSpan } from "@cellwallet/telemetry";
import { type CellAnswer, type CellMigrationClient, CellUnreachableError } from "./cell-migration-client.js";
import { COMPLETES, type MigrationAction, nextAction, planRefusal, rollbackPlan } from "./migration-steps.js";

/**
 * The use case behind `cellctl users migrate`: plan a move, drive it step by
 * step (each step persisted in the placement store only after its action
 * succeeded, each transition conditional on the previous step), resume it from
 * any persisted step, or roll it back while the target does not own the wallet.
 */

export interface MigrationDeps {
  store: PlacementStore;
  cells: CellMigrationClient;
  /** Items per export page. */
  pageSize?: number;
  /** How long the settle step waits for the user's outgoing cross-cell transfers before rolling back. */
  settleTimeoutMs?: number;
  now?: () => number;
}

export interface MigrationHooks {
  /** Before an action starts. */
  onAction?: (migration: MigrationRecord, action: MigrationAction) => void;
  /** After a step was persisted (the CLI's progress line; the test-only fault hook). */
  onStep?: (migration: MigrationRecord, action: MigrationAction, ms: number) => void | Promise<void>;
  /** Free-form progress (pages copied, settle waits, replica failures). */
  onNote?: (message: string) => void;
}

export type MigrationOutcome =
  | { ok: true; migration: MigrationRecord }
  | {
      ok: false;
      /** refused: nothing to do or not allowed; failed: a step failed (see migration.state); lost: another driver moved it on. */
      kind: "refused" | "failed" | "lost" | "unreachable";
      reason: string;
      migration?: MigrationRecord;
    };

const DEFAULT_PAGE_SIZE = MIGRATION_EXPORT_DEFAULT_LIMIT;
const DEFAULT_SETTLE_TIMEOUT_MS = 10_000;

export function newMigrationId(now = Date.now()): string {
  return `mig-${now.toString(36)}-${randomBytes(5).toString("hex")}`;
}

class StepRefused extends Error {
  override readonly name = "StepRefused";
}

class Lost extends Error {
  override readonly name = "Lost";
}

function refusalText(action: string, answer: Extract<CellAnswer<unknown>, { ok: false }>): string {
  return `${action} refused by ${answer.url.split("/internal/")[0]}: HTTP ${answer.status} ${answer.code}: ${answer.detail}`;
}

/** The cell refused cellctl itself (401/403: wrong CELL_INTERNAL_SECRET): configuration, not the migration's fault. */
class NotAuthorized extends CellUnreachableError {}

function must<T>(action: string, answer: CellAnswer<T>): T {
  if (!answer.ok && (answer.status === 401 || answer.status === 403)) {
    throw new NotAuthorized(`${refusalText(action, answer)} (check CELL_INTERNAL_SECRET)`);
  }
  if (!answer.ok) throw new StepRefused(refusalText(action, answer));
  return answer.body;
}

async function cellOf(store: PlacementStore, cellId: string): Promise<CellRecord> {
  const cell = await store.getCell(cellId);
  if (!cell) throw new StepRefused(`cell ${cellId} is not in the registry`);
  return cell;
}

/**
 * Records a new migration of `userId` to `targetCellId` after checking the rules (placed, not already
 * migrating, target active with room, not the same cell) and asking the source for the user's wallet.
 */
export async function planMigration(
  deps: MigrationDeps,
  input: { userId: string; targetCellId: string; actor: string; migrationId?: string },
): Promise<MigrationOutcome> {
  const { store } = deps;
  const placement = await store.getUserPlacement(input.userId);
  const target = await store.getCell(input.targetCellId);
  const active = await store.activeMigration(input.userId);
  const refusal = planRefusal({ userPlacedIn: placement?.cellId, target, active });
  if (refusal !== undefined || !placement) {
    return { ok: false, kind: "refused", reason: refusal ?? "not placed", ...(active ? { migration: active } : {}) };
  }
  const source = await store.getCell(placement.cellId);
  if (!source) return { ok: false, kind: "refused", reason: `the user's cell ${placement.cellId} is not registered` };
  let status: MigrationWalletStatus;
  try {
    const answer = await deps.cells.status(source, input.userId);
    if (!answer.ok) return { ok: false, kind: "refused", reason: refusalText("status", answer) };
    status = answer.body;
  } catch (error) {
    return { ok: false, kind: "unreachable", reason: (error as Error).message };
  }
  if (status.state !== "active" && status.state !== "absent") {
    return {
      ok: false,
      kind: "refused",
      reason: `the source ${source.cellId} holds the user's wallet as "${status.state}", not active`,
    };
  }
  const created = await store.createMigration({
    migrationId: input.migrationId ?? newMigrationId(),
    userId: input.userId,
    walletId: status.walletId ?? null,
    sourceCellId: placement.cellId,
    targetCellId: input.targetCellId,
    fromEpoch: placement.epoch,
    actor: input.actor,
  });
  if (!created.ok) {
    const why =
      created.reason === "user-migrating"
        ? `the user is already being migrated (${created.migration?.migrationId}): use --resume or --rollback`
        : created.reason === "placement-changed"
          ? "the user's placement changed while planning; try again"
          : "a migration with this id exists";
    return { ok: false, kind: "refused", reason: why, ...(created.migration ? { migration: created.migration } : {}) };
  }
  return { ok: true, migration: created.migration };
}

/** Drives a migration forward from its persisted step to the end (or into a rollback when a step is refused). */
export function driveMigration(
  deps: MigrationDeps,
  start: MigrationRecord,
  hooks: MigrationHooks = {},
): Promise<MigrationOutcome> {
  // With tracing on, one trace per drive: a span per step, the cells' spans under it (traceparent).
  const attributes = {
    "cellwallet.migration_id": start.migrationId,
    "cellwallet.source_cell": start.sourceCellId,
    "cellwallet.target_cell": start.targetCellId,
  };
  return withSpan("user migration", attributes, () => drive(deps, start, hooks));
}

async function drive(deps: MigrationDeps, start: MigrationRecord, hooks: MigrationHooks): Promise<MigrationOutcome> {
  let m = start;
  const now = deps.now ?? Date.now;
  for (;;) {
    const action = nextAction(m);
    if (action === "done") {
      return m.state === "completed"
        ? { ok: true, migration: m }
        : { ok: false, kind: "failed", reason: m.error ?? `the migration is ${m.state}`, migration: m };
    }
    if (action === "rollback") return asFailure(await rollbackMigration(deps, m, hooks, m.error ?? "rollback resumed"));
    hooks.onAction?.(m, action);
    const started = now();
    try {
      const from = m;
      m = await withSpan(`migration ${action}`, { "cellwallet.migration_step": action }, () =>
        perform(deps, from, action, hooks),
      );
    } catch (error) {
      if (error instanceof Lost) {
        const latest = await deps.store.getMigration(m.migrationId);
        return { ok: false, kind: "lost", reason: error.message, ...(latest ? { migration: latest } : {}) };
      }
      if (error instanceof CellUnreachableError) {
        return {
          ok: false,
          kind: "unreachable",
          reason: `${error.message}; the migration stays at "${m.step}": run --resume (or --rollback) when the cell answers`,
          migration: m,
        };
      }
      if (error instanceof StepRefused) {
        // A definite refusal before the target owns the wallet: give the user back to the source.
        if (rollbackPlan(m).ok) return asFailure(await rollbackMigration(deps, m, hooks, error.message));
        return {
          ok: false,
          kind: "failed",
          reason: `${error.message}; the migration stays at "${m.step}" (only forward from here): fix and run --resume`,
          migration: m,
        };
      }
      throw error;
    }
    await hooks.onStep?.(m, action, now() - started);
  }
}

/** A rollback the driver had to do is a failed migration, however cleanly it was undone. */
function asFailure(outcome: MigrationOutcome): MigrationOutcome {
  if (!outcome.ok) return outcome;
  return {
    ok: false,
    kind: "failed",
    reason: `rolled back: ${outcome.migration.error ?? "a step was refused"}`,
    migration: outcome.migration,
  };
}

/** Persists the next step only from the step the action started at: a second driver cannot also advance it. */
async function advance(deps: MigrationDeps, m: MigrationRecord, patch: MigrationPatch): Promise<MigrationRecord> {
  const next = await deps.store.updateMigration(m.migrationId, { step: m.step, state: m.state }, patch);
  if (!next) throw new Lost(`migration ${m.migrationId} was moved on by another cellctl (expected "${m.step}")`);
  return next;
}

/**
 * Export pages from the record's cursor and import each into the target; returns where the next copy
 * starts (the last page's tailCursor) and the source's status with the last page.
 */
async function copyPages(
  deps: MigrationDeps,
  m: MigrationRecord,
  source: CellRecord,
  target: CellRecord,
  saveCursor: ((cursor: string) => Promise<void>) | undefined,
): Promise<{ cursor: string | null; status: MigrationWalletStatus; items: number }> {
  let cursor = m.cursor ?? undefined;
  let items = 0;
  for (;;) {
    const page = must(
      "export",
      await deps.cells.exportPage(source, m.userId, cursor, deps.pageSize ?? DEFAULT_PAGE_SIZE),
    );
    if (page.items.length > 0) {
      must(
        "import",
        await deps.cells.import(target, m.userId, {
          migrationId: m.migrationId,
          epoch: m.toEpoch,
          sourceCellId: m.sourceCellId,
          items: page.items,
        }),
      );
      items += page.items.length;
    }
    // After the last page the cell names where the tail starts (new entries, and records still open then).
    if (page.nextCursor === undefined) {
      return { cursor: page.tailCursor ?? cursor ?? null, status: page.status, items };
    }
    cursor = page.nextCursor;
    // The clone may take long for a big history: a resumed clone continues from the last imported page.
    await saveCursor?.(cursor);
  }
}

async function perform(
  deps: MigrationDeps,
  start: MigrationRecord,
  action: MigrationAction,
  hooks: MigrationHooks,
): Promise<MigrationRecord> {
  let m = start;
  const now = deps.now ?? Date.now;
  const step = COMPLETES[action];
  if (step === undefined) throw new Error(`no step completes ${action}`);
  const source = await cellOf(deps.store, m.sourceCellId);
  const target = await cellOf(deps.store, m.targetCellId);
  switch (action) {
    case "clone": {
      const copied = await copyPages(deps, m, source, target, async (cursor) => {
        m = await advance(deps, m, { cursor });
      });
      hooks.onNote?.(`cloned ${copied.items} item(s) while the user stayed live`);
      return advance(deps, m, { step, cursor: copied.cursor, walletId: copied.status.walletId ?? m.walletId });
    }
    case "freeze": {
      const frozenAt = now();
      const status = must(
        "freeze",
        await deps.cells.freeze(source, m.userId, {
          migrationId: m.migrationId,
          epoch: m.fromEpoch,
          targetCellId: m.targetCellId,
        }),
      );
      return advance(deps, m, { step, frozenAt, walletId: status.walletId ?? m.walletId });
    }
    case "settle": {
      const deadline = now() + (deps.settleTimeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS);
      for (let round = 0; ; round++) {
        const status = must("settle", await deps.cells.settle(source, m.userId));
        const pending = status.pendingTransfers ?? 0;
        if (pending === 0) break;
        if (now() > deadline) {
          throw new StepRefused(`${pending} outgoing cross-cell transfer(s) did not settle in time`);
        }
        hooks.onNote?.(`waiting for ${pending} pending cross-cell transfer(s) to settle`);
        await new Promise((r) => setTimeout(r, Math.min(500, 50 * 2 ** round)));
      }
      return advance(deps, m, { step });
    }
    case "copy-tail": {
      const copied = await copyPages(deps, m, source, target, undefined);
      const head = copied.status;
      hooks.onNote?.(`copied the tail: ${copied.items} item(s)`);
      return advance(deps, m, {
        step,
        cursor: copied.cursor,
        walletId: head.walletId ?? m.walletId,
        expectedVersion: head.version ?? 0,
        expectedHeadHash: head.headHash ?? "0".repeat(64),
      });
    }
    case "activate": {
      // Also for a user without a wallet (expected version 0): the target then owns the user at toEpoch.
      must(
        "activate",
        await deps.cells.activate(target, m.userId, {
          migrationId: m.migrationId,
          epoch: m.toEpoch,
          expectedVersion: m.expectedVersion ?? 0,
          expectedHeadHash: m.expectedHeadHash ?? "0".repeat(64),
        }),
      );
      return advance(deps, m, { step });
    }
    case "flip": {
      const flipped = await deps.store.flipPlacement(m.migrationId);
      if (!flipped.ok) {
        if (flipped.reason === "step-changed") throw new Lost(`migration ${m.migrationId} changed before the flip`);
        if (flipped.reason === "target-retired") throw new StepRefused(`the target ${m.targetCellId} was retired`);
        if (flipped.reason === "target-full") throw new StepRefused(`the target ${m.targetCellId} is full`);
        throw new StepRefused(`the user's placement is no longer ${m.sourceCellId} at epoch ${m.fromEpoch}`);
      }
      return flipped.migration;
    }
    case "mark-moved": {
      must(
        "moved",
        await deps.cells.markMoved(source, m.userId, {
          migrationId: m.migrationId,
          epoch: m.toEpoch,
          targetCellId: m.targetCellId,
        }),
      );
      const pauseMs = m.frozenAt === null ? null : Math.max(0, now() - m.frozenAt);
      return advance(deps, m, { step, state: "completed", ...(pauseMs !== null ? { pauseMs } : {}) });
    }
    default:
      throw new Error(`unexpected action ${action}`);
  }
}

/**
 * Rolls a migration back while the target does not own the wallet: marks it rolling-back (which also
 * stops any other driver from flipping it), drops the target's importing copy, lets the source take
 * writes again, and records rolled-back (ok: true). Resumable: every call is idempotent.
 */
export async function rollbackMigration(
  deps: MigrationDeps,
  start: MigrationRecord,
  hooks: MigrationHooks = {},
  reason = "rolled back by the operator",
): Promise<MigrationOutcome> {
  let m = start;
  const plan = rollbackPlan(m);
  if (!plan.ok) return { ok: false, kind: "refused", reason: plan.reason, migration: m };
  if (m.state === "rolled-back") return { ok: true, migration: m };
  try {
    if (m.state === "running") m = await advance(deps, m, { state: "rolling-back", error: reason });
    hooks.onAction?.(m, "rollback");
    const started = (deps.now ?? Date.now)();
    const source = await cellOf(deps.store, m.sourceCellId);
    const target = await cellOf(deps.store, m.targetCellId);
    const abandoned = await deps.cells.abandon(target, m.userId, { migrationId: m.migrationId });
    if (!abandoned.ok && abandoned.status !== 409) must("abandon", abandoned);
    if (!abandoned.ok) {
      // The target may have activated its copy (a crash between activate and its step write): then only
      // forward is safe. Give the record back to the forward path.
      const back = await advance(deps, m, { state: "running" });
      return {
        ok: false,
        kind: "refused",
        reason: `${refusalText("abandon", abandoned)}; the target may own the wallet already: run --resume`,
        migration: back,
      };
    }
    must("unfreeze", await deps.cells.unfreeze(source, m.userId, { migrationId: m.migrationId, epoch: m.fromEpoch }));
    m = await advance(deps, m, { state: "rolled-back" });
    await hooks.onStep?.(m, "rollback", (deps.now ?? Date.now)() - started);
    return { ok: true, migration: m };
  } catch (error) {
    if (error instanceof Lost) return { ok: false, kind: "lost", reason: error.message, migration: m };
    if (error instanceof CellUnreachableError || error instanceof StepRefused) {
      return {
        ok: false,
        kind: "unreachable",
        reason: `${error.message}; the rollback stays pending: run --rollback again`,
        migration: m,
      };
    }
    throw error;
  }
}
