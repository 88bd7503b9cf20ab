import { createHash, type KeyObject } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { makeDirectory } from "@cellwallet/store-support/fs";
import Database from "better-sqlite3";
import { SqliteLedgerStore } from "../adapters/sqlite/sqlite-ledger-store.js";
import { type CellVerificationReport, verifyCell } from "../application/cell-verification.js";
import type { LedgerStore } from "../application/ledger-store.js";
import {
  BACKUP_FORMAT,
  type BackupManifest,
  MANIFEST_FILE,
  manifestHash,
  parseManifest,
  SQLITE_BACKUP_FILE,
} from "./backup-manifest.js";
import { type LedgerContents, readStoreContents, restoredCopyProblems } from "./ledger-contents.js";

function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Every wallet head, the latest checkpoint and the outgoing transfers in flight of a ledger file. */
export async function readLedgerContents(path: string): Promise<LedgerContents> {
  const store = new SqliteLedgerStore({ path });
  try {
    return await readStoreContents(store);
  } finally {
    await store.close();
  }
}

/**
 * A consistent copy of a live cell's embedded ledger with SQLite's online
 * backup API (the copy is taken in one step under a read transaction, so
 * writers go on and the copy is one point in time), plus its manifest.
 */
export async function createSqliteBackup(input: {
  cellId: string;
  ledgerPath: string;
  outDir: string;
  now?: () => number;
}): Promise<BackupManifest> {
  if (!existsSync(input.ledgerPath)) throw new Error(`cell ${input.cellId} has no ledger at ${input.ledgerPath}`);
  if (existsSync(join(input.outDir, MANIFEST_FILE))) throw new Error(`${input.outDir} already holds a backup`);
  makeDirectory(input.outDir);
  const target = join(input.outDir, SQLITE_BACKUP_FILE);
  const source = new Database(input.ledgerPath, { fileMustExist: true });
  const createdAtMs = (input.now ?? Date.now)();
  try {
    source.pragma("busy_timeout = 5000");
    // 0x7fffffff pages per step: the whole file in one step, i.e. one consistent snapshot.
    await source.backup(target, { progress: () => 0x7fffffff });
  } finally {
    source.close();
  }
  const contents = await readLedgerContents(target);
  // Back to a single self-contained file (readLedgerContents opened it in WAL mode).
  const db = new Database(target);
  db.pragma("journal_mode = DELETE");
  db.close();
  const body: Omit<BackupManifest, "manifestHash"> = {
    format: BACKUP_FORMAT,
    cellId: input.cellId,
    store: "sqlite",
    createdAt: new Date(createdAtMs).toISOString(),
    createdAtMs,
    file: { name: SQLITE_BACKUP_FILE, bytes: statSync(target).size, sha256: sha256File(target) },
    wallets: contents.heads.length,
    entries: contents.entries,
    heads: contents.heads,
    latestCheckpoint: contents.latestCheckpoint,
    pendingTransfers: contents.pendingTransfers,
  };
  const manifest: BackupManifest = { ...body, manifestHash: manifestHash(body) };
  writeFileSync(join(input.outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export function readManifest(backupDir: string): BackupManifest {
  const path = join(backupDir, MANIFEST_FILE);
  if (!existsSync(path)) throw new Error(`${backupDir} is not a backup (no ${MANIFEST_FILE})`);
  return parseManifest(readFileSync(path, "utf8"));
}

export interface BackupVerification {
  manifest: BackupManifest;
  valid: boolean;
  problems: string[];
  report?: CellVerificationReport;
}

/**
 * Checks a backup offline, on a scratch copy (the backup is never modified):
 * the manifest's hash, the ledger file's hash, every chain re-hashed and
 * anchored by the latest checkpoint whose signature must verify with a trusted
 * key, and every wallet head exactly as the manifest lists it.
 */
export async function verifySqliteBackup(
  backupDir: string,
  trustedKeys: ReadonlyMap<string, KeyObject>,
  keep?: (scratchLedger: string) => void,
): Promise<BackupVerification> {
  const manifest = readManifest(backupDir);
  const problems: string[] = [];
  if (manifest.store !== "sqlite" || !manifest.file) {
    throw new Error(`a ${manifest.store} backup: verify it with WALLET_STORE=${manifest.store}`);
  }
  const file = join(backupDir, manifest.file.name);
  if (!existsSync(file))
    return { manifest, valid: false, problems: [`the ledger file ${manifest.file.name} is missing`] };
  if (sha256File(file) !== manifest.file.sha256) {
    return { manifest, valid: false, problems: ["the ledger file's hash does not match the manifest (damaged)"] };
  }
  const scratch = mkdtempSync(join(tmpdir(), "cellwallet-verify-"));
  const copy = join(scratch, SQLITE_BACKUP_FILE);
  try {
    copyFileSync(file, copy);
    const store = new SqliteLedgerStore({ path: copy });
    let report: CellVerificationReport;
    let contents: LedgerContents;
    try {
      report = await verifyCell(store, manifest.cellId, { trustedKeys });
      contents = await readStoreContents(store);
    } finally {
      await store.close();
    }
    problems.push(...restoredCopyProblems(report, contents, manifest));
    const valid = problems.length === 0 && report.valid;
    if (valid && keep) keep(copy);
    return { manifest, valid, problems, report };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The files of an embedded ledger (the database and its WAL and shared-memory files). */
export function ledgerFiles(ledgerPath: string): string[] {
  return [ledgerPath, `${ledgerPath}-wal`, `${ledgerPath}-shm`].filter((f) => existsSync(f));
}

/**
 * Puts a verified backup in place of a cell's ledger: the current files (if
 * any) are moved aside into `replacedDir`, never deleted, and the restored
 * file is written next to the ledger and renamed over it, so a cell process
 * started afterwards sees either nothing or the whole verified copy.
 */
export async function restoreSqliteBackup(input: {
  backupDir: string;
  ledgerPath: string;
  trustedKeys: ReadonlyMap<string, KeyObject>;
  replacedDir: string;
  /** Called once the copy verified, just before the files move (e.g. to pause the cell's processes). */
  beforeSwap?: () => void;
  /** Changes to the verified copy before it goes in place (e.g. wallets that moved away since the backup). */
  adjust?: (store: LedgerStore) => Promise<void>;
}): Promise<{ verification: BackupVerification; replaced: string[] }> {
  const staged = `${input.ledgerPath}.restoring`;
  makeDirectory(resolve(input.ledgerPath, ".."));
  rmSync(staged, { force: true });
  const verification = await verifySqliteBackup(input.backupDir, input.trustedKeys, (copy) =>
    copyFileSync(copy, staged),
  );
  if (!verification.valid) {
    rmSync(staged, { force: true });
    return { verification, replaced: [] };
  }
  if (input.adjust) {
    const store = new SqliteLedgerStore({ path: staged });
    try {
      await input.adjust(store);
    } catch (error) {
      await store.close();
      rmSync(staged, { force: true });
      throw error;
    }
    await store.close();
  }
  input.beforeSwap?.();
  const replaced: string[] = [];
  const current = ledgerFiles(input.ledgerPath);
  if (current.length > 0) makeDirectory(input.replacedDir);
  for (const f of current) {
    const aside = join(input.replacedDir, f.slice(resolve(input.ledgerPath, "..").length + 1));
    renameSync(f, aside);
    replaced.push(aside);
  }
  renameSync(staged, input.ledgerPath);
  return { verification, replaced };
}
