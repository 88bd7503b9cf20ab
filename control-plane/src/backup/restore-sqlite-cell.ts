import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import type { BackupManifest, LossReport } from "@cellwallet/cell-service";
import type { CellRecord } from "@cellwallet/placement";
import { markMovedAway } from "./moved-away.js";
import {
  type LossReference,
  type RestoreCellDeps,
  type RestoreCellRequest,
  RestoreFailure,
  type SqliteRestored,
  type VerifiedBackup,
} from "./restore-types.js";

function signal(pids: readonly number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

async function waitReady(deps: RestoreCellDeps, cell: CellRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await deps.liveReplicas(cell, 500)).length === cell.endpoints.length) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/**
 * The processes of a live cell to pause and kill: only a cell the local launcher runs here (it restarts them
 * on the restored ledger). Refuses an existing or live cell without --force, and a live cell run elsewhere.
 */
async function launcherPidsToReplace(
  deps: RestoreCellDeps,
  request: RestoreCellRequest,
  cell: CellRecord,
  ledgerPath: string,
): Promise<number[]> {
  const live = await deps.liveReplicas(cell);
  const existing = deps.cellService.ledgerFiles(ledgerPath);
  if ((live.length > 0 || existing.length > 0) && !request.force) {
    const what = live.length > 0 ? `is live (${live.length} replicas ready)` : `has a ledger at ${ledgerPath}`;
    throw new RestoreFailure(
      `refused: ${request.cellId} ${what}; --force replaces it (its files are kept aside)`,
      "refused",
    );
  }
  const pids = live.length > 0 ? deps.launcherPidsOf(request.cellId) : [];
  if (pids === undefined || (live.length > 0 && pids.length === 0)) {
    throw new RestoreFailure(
      `refused: ${request.cellId} is live and not run by the local launcher here: stop its replicas first`,
      "refused",
    );
  }
  return pids;
}

/** Without --checkpoint the loss is measured against the replaced ledger, when it is still readable. */
async function replacedLedgerReference(
  deps: RestoreCellDeps,
  replacedLedger: string,
): Promise<LossReference | undefined> {
  if (!existsSync(replacedLedger)) return undefined;
  try {
    const old = await deps.cellService.readLedgerContents(replacedLedger);
    return {
      heads: old.heads.map((h: BackupManifest["heads"][number]) => ({
        walletId: h.walletId,
        version: h.version,
        balance: BigInt(h.balance),
      })),
      reference: "the replaced ledger",
      atMs: Date.now(),
      complete: true,
    };
  } catch {
    // the replaced files are unreadable (the reason for the restore): no reference
    return undefined;
  }
}

/**
 * The lost entries themselves (type, amount, transfer id, counterparty), read from the replaced ledger when it is
 * still readable: what an accountant needs to follow a reconcile mismatch to the other cell's side.
 */
async function attachLostEntries(deps: RestoreCellDeps, loss: LossReport, replacedLedger: string): Promise<void> {
  if (!existsSync(replacedLedger) || loss.wallets.length === 0) return;
  try {
    const entries = await deps.cellService.readLostEntries(
      replacedLedger,
      loss.wallets.map((w) => ({
        walletId: w.walletId,
        afterVersion: w.backupVersion,
        upToVersion: w.referenceVersion,
      })),
    );
    for (const w of loss.wallets) w.entries = entries.get(w.walletId) ?? [];
  } catch {
    // the replaced files are unreadable (the reason for the restore): counts and balances only
  }
}

/**
 * An embedded (SQLite) backup in place of the cell's ledger: verified first, the current files moved aside
 * into <data dir>/<cell>/replaced-<time>/; a live cell run by the local launcher is paused during the swap,
 * then killed so that the launcher restarts it on the restored ledger.
 */
export async function restoreSqliteCell(
  deps: RestoreCellDeps,
  request: RestoreCellRequest,
  found: VerifiedBackup & { cell: CellRecord },
): Promise<Omit<SqliteRestored, "migratedIn">> {
  const { cell, manifest, trusted, movedAway } = found;
  const ledgerPath = deps.ledgerPathOf(request.cellId);
  const pids = await launcherPidsToReplace(deps, request, cell, ledgerPath);
  try {
    await deps.recordRestore(request.cellId, {
      backup: request.backupDir,
      createdAt: manifest.createdAt,
      force: request.force,
    });
  } catch (error) {
    throw new RestoreFailure(`nothing changed: could not record the restore: ${(error as Error).message}`, "refused");
  }
  const replacedDir = join(dirname(ledgerPath), `replaced-${new Date().toISOString().replace(/[-:.]/g, "")}`);
  let result: Awaited<ReturnType<RestoreCellDeps["cellService"]["restoreSqliteBackup"]>>;
  try {
    // Paused (not killed) while the files move: the launcher must not restart them on the old ledger meanwhile.
    result = await deps.cellService.restoreSqliteBackup({
      backupDir: request.backupDir,
      ledgerPath,
      trustedKeys: trusted,
      replacedDir,
      beforeSwap: () => signal(pids, "SIGSTOP"),
      adjust: movedAway.length > 0 ? markMovedAway(movedAway) : undefined,
    });
  } catch (error) {
    signal(pids, "SIGCONT");
    throw new RestoreFailure(`restore failed, nothing changed: ${(error as Error).message}`, "refused");
  }
  if (!result.verification.valid) {
    throw new RestoreFailure(
      `refused: the backup does not verify: ${result.verification.problems.join("; ")}`,
      "refused",
    );
  }
  // The launcher restarts them on the restored ledger; announced, so that it does not report crashes.
  if (pids.length > 0) deps.announceKills(pids, `cellctl backup restore of ${request.cellId}`);
  signal(pids, "SIGKILL");
  const replacedLedger = join(replacedDir, "ledger.sqlite");
  const reference = found.reference ?? (await replacedLedgerReference(deps, replacedLedger));
  const loss = reference
    ? deps.cellService.lossReport(manifest.heads, manifest.createdAtMs, reference.heads, reference)
    : undefined;
  if (loss) await attachLostEntries(deps, loss, replacedLedger);
  const restartedReady = pids.length > 0 ? await waitReady(deps, cell, 30_000) : undefined;
  return {
    store: "sqlite",
    cellId: request.cellId,
    backupDir: request.backupDir,
    manifest,
    loss,
    movedAway,
    replaced: result.replaced,
    replacedDir,
    restartedReady,
  };
}
