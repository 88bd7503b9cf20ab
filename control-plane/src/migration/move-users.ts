import type { MigrationRecord, PlacementStore } from "@cellwallet/placement";
import type { OperatorActionInput } from "../audit/operator-log.js";
import {
  driveMigration,
  type MigrationDeps,
  type MigrationHooks,
  type MigrationOutcome,
  newMigrationId,
  planMigration,
} from "./migrate-user.js";
import type { PlannedMove } from "./rebalance-plan.js";

/**
 * Moving users one migration at a time, as drain and rebalance do: each move is recorded in the operator
 * audit trail before it starts, planned, driven, and reported; a failed move is a result, never a throw, so
 * one stuck user does not stop the others.
 */

export interface MoveResult {
  userId: string;
  from: string;
  to: string;
  ok: boolean;
  migrationId: string | null;
  pauseMs: number | null;
  error?: string;
}

export interface MoveContext {
  deps: MigrationDeps;
  /** Who asks (recorded with every move). */
  actor: string;
  /** Appends to the operator audit trail; a move whose record fails is not started. */
  record(input: OperatorActionInput): Promise<void>;
  /** Progress hooks for one migration (fresh per move); `afterPlan` runs once the plan is persisted. */
  hooks(): MigrationHooks & { afterPlan?: (m: MigrationRecord) => void };
  /** One progress line per move or resumed migration. */
  progress(line: string): void;
}

function toResult(move: PlannedMove, outcome: MigrationOutcome): MoveResult {
  return {
    ...move,
    ok: outcome.ok,
    migrationId: outcome.migration?.migrationId ?? null,
    pauseMs: outcome.migration?.pauseMs ?? null,
    ...(outcome.ok ? {} : { error: outcome.reason }),
  };
}

/** One planned move: recorded, planned, driven; `reason` says why (e.g. "drain cell-3 2/7"). */
export async function moveUser(context: MoveContext, move: PlannedMove, reason: string): Promise<MoveResult> {
  const migrationId = newMigrationId();
  try {
    await context.record({
      actor: context.actor,
      action: "user.migrate",
      target: move.userId,
      details: { migrationId, from: move.from, to: move.to, reason },
    });
  } catch (error) {
    return { ...move, ok: false, migrationId: null, pauseMs: null, error: `not recorded: ${(error as Error).message}` };
  }
  const planned = await planMigration(context.deps, {
    userId: move.userId,
    targetCellId: move.to,
    actor: context.actor,
    migrationId,
  });
  const hooks = context.hooks();
  if (planned.ok) hooks.afterPlan?.(planned.migration);
  const outcome = planned.ok ? await driveMigration(context.deps, planned.migration, hooks) : planned;
  const result = toResult(move, outcome);
  context.progress(
    `  ${move.userId}: ${move.from} -> ${move.to} ${result.ok ? `ok, writes paused ${result.pauseMs ?? "?"} ms` : `FAILED: ${result.error}`}`,
  );
  return result;
}

/** The moves in order, each labelled `${label} i/n`. */
export async function moveUsers(context: MoveContext, moves: PlannedMove[], label: string): Promise<MoveResult[]> {
  const results: MoveResult[] = [];
  for (const [i, move] of moves.entries())
    results.push(await moveUser(context, move, `${label} ${i + 1}/${moves.length}`));
  return results;
}

/** Migrations a crashed drain or rebalance left behind, with `cellId` as source (or every cell). */
export async function unfinishedMigrations(store: PlacementStore, cellId?: string): Promise<MigrationRecord[]> {
  return (await store.listMigrations()).filter(
    (m) => (m.state === "running" || m.state === "rolling-back") && (cellId === undefined || m.sourceCellId === cellId),
  );
}

/** Finishes (forward or back, from the step they reached) the migrations a crash left behind. */
export async function resumeUnfinishedMigrations(context: MoveContext, cellId?: string): Promise<MoveResult[]> {
  const results: MoveResult[] = [];
  for (const m of await unfinishedMigrations(context.deps.store, cellId)) {
    context.progress(`  resuming ${m.migrationId} (${m.userId}) after "${m.step}"`);
    await context.record({
      actor: context.actor,
      action: "user.migrate.resume",
      target: m.userId,
      details: { migrationId: m.migrationId, step: m.step, state: m.state },
    });
    const move = { userId: m.userId, from: m.sourceCellId, to: m.targetCellId };
    results.push(toResult(move, await driveMigration(context.deps, m, context.hooks())));
  }
  return results;
}
