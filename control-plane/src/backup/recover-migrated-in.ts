import type { MigrationWalletStatus } from "@cellwallet/contract";
import type { CellRecord, MigrationRecord } from "@cellwallet/placement";
import type { CellAnswer } from "../migration/cell-migration-client.js";
import type { MigrationDeps } from "../migration/migrate-user.js";

/**
 * After a restore: wallets whose users were migrated INTO the cell after its backup are not in the restored
 * ledger, yet the placement store sends their users (and the routers their wallets) to this cell, so they would
 * answer 404. Their history up to the move still exists, read-only (`moved`), in the cell they came from. This
 * copies it back the way a migration copies a wallet (export pages from that cell, import them here, verify the
 * whole chain ends at that copy's head, activate) under a recovery id derived from the move, so a crashed run
 * can simply be run again. What was written here after the move is the restore's loss window (its report).
 */

export type RecoveryOutcome =
  | {
      userId: string;
      walletId: string;
      sourceCellId: string;
      outcome: "recovered";
      /** Entries of the recovered chain (its last sequence), and its balance as the public API shows it. */
      version: number;
      balance: string;
      currency: string;
    }
  | { userId: string; walletId: string; sourceCellId: string; outcome: "failed"; reason: string };

export interface RecoveryHooks {
  /** Before a wallet is copied back (the CLI records it in the operator audit trail first). */
  beforeRecovery?: (candidate: { userId: string; walletId: string; sourceCellId: string }) => Promise<void>;
  onNote?: (message: string) => void;
}

/** The recovery id of a move: the same on every run, so an interrupted import is continued, not duplicated. */
export const recoveryIdOf = (migrationId: string) => `recover-${migrationId}`;

function must<T>(what: string, answer: CellAnswer<T>): T {
  if (!answer.ok) throw new Error(`${what}: HTTP ${answer.status} ${answer.code}: ${answer.detail}`);
  return answer.body;
}

/**
 * The users whose last completed move brought them to `cellId`, with that move (a user moved in and then out
 * again is not the cell's any more).
 */
export function lastMovesInto(migrations: readonly MigrationRecord[], cellId: string): Map<string, MigrationRecord> {
  const last = new Map<string, MigrationRecord>();
  for (const m of migrations) {
    if (m.state !== "completed") continue;
    const seen = last.get(m.userId);
    if (seen === undefined || m.toEpoch > seen.toEpoch) last.set(m.userId, m);
  }
  for (const [userId, m] of last) if (m.targetCellId !== cellId || m.walletId === null) last.delete(userId);
  return last;
}

/**
 * Recovers, into `cellId`, every wallet of a user placed there whose last completed move brought it there and
 * that the cell does not hold as its own (absent, an unfinished recovery, or an older read-only copy).
 */
export async function recoverMigratedIn(
  deps: MigrationDeps,
  cellId: string,
  hooks: RecoveryHooks = {},
): Promise<RecoveryOutcome[]> {
  const target = await deps.store.getCell(cellId);
  if (!target) throw new Error(`unknown cell ${cellId}`);
  const moves = lastMovesInto(await deps.store.listMigrations(), cellId);
  const outcomes: RecoveryOutcome[] = [];
  for (const placement of await deps.store.listCellUsers(cellId)) {
    const move = moves.get(placement.userId);
    if (move === undefined || move.walletId === null) continue;
    const here = must("status here", await deps.cells.status(target, placement.userId));
    if (here.state === "active" || here.state === "frozen") continue;
    const candidate = { userId: placement.userId, walletId: move.walletId, sourceCellId: move.sourceCellId };
    try {
      await hooks.beforeRecovery?.(candidate);
      const recovered = await copyBack(deps, target, move, placement.epoch, hooks);
      outcomes.push({
        ...candidate,
        outcome: "recovered",
        version: recovered.version ?? 0,
        balance: recovered.balance ?? "0",
        currency: recovered.currency ?? "",
      });
    } catch (error) {
      outcomes.push({ ...candidate, outcome: "failed", reason: (error as Error).message });
    }
  }
  return outcomes;
}

async function copyBack(
  deps: MigrationDeps,
  target: CellRecord,
  move: MigrationRecord,
  epoch: number,
  hooks: RecoveryHooks,
): Promise<MigrationWalletStatus> {
  const source = await deps.store.getCell(move.sourceCellId);
  if (!source) throw new Error(`the cell it came from, ${move.sourceCellId}, is no longer registered`);
  const there = must(`status in ${source.cellId}`, await deps.cells.status(source, move.userId));
  // Only the read-only copy the move left behind is this wallet's history; anything else is not ours to take.
  if (there.state !== "moved" || there.movedTo !== target.cellId || there.walletId !== move.walletId) {
    throw new Error(
      `${source.cellId} holds ${there.walletId ?? "no wallet"} for ${move.userId} as ${there.state}` +
        `${there.movedTo ? ` (moved to ${there.movedTo})` : ""}, not as the read-only copy of the move to ${target.cellId}`,
    );
  }
  const migrationId = recoveryIdOf(move.migrationId);
  let cursor: string | undefined;
  let status: MigrationWalletStatus = there;
  let items = 0;
  for (;;) {
    const page = must(
      `export from ${source.cellId}`,
      await deps.cells.exportPage(source, move.userId, cursor, deps.pageSize ?? 200),
    );
    if (page.items.length > 0) {
      must(
        `import into ${target.cellId}`,
        await deps.cells.import(target, move.userId, {
          migrationId,
          epoch,
          sourceCellId: source.cellId,
          items: page.items,
        }),
      );
      items += page.items.length;
    }
    status = page.status;
    if (page.nextCursor === undefined) break;
    cursor = page.nextCursor;
  }
  hooks.onNote?.(`${move.userId}: copied ${items} item(s) back from ${source.cellId}`);
  if (status.version === undefined || status.headHash === undefined) {
    throw new Error(`${source.cellId} did not name the head of ${move.walletId}`);
  }
  return must(
    `activate in ${target.cellId}`,
    await deps.cells.activate(target, move.userId, {
      migrationId,
      epoch,
      expectedVersion: status.version,
      expectedHeadHash: status.headHash,
    }),
  );
}
