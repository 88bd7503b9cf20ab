import type { KeyObject } from "node:crypto";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CreateBackupCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceNotFoundException,
  RestoreTableFromBackupCommand,
} from "@aws-sdk/client-dynamodb";
import { makeDirectory } from "@cellwallet/store-support/fs";
import { createDynamoDbLedgerStore } from "../adapters/dynamodb/dynamodb-ledger-store.js";
import { CELL_TABLES, type CellTableName, cellTableNames } from "../adapters/dynamodb/table-definitions.js";
import { type CellVerificationReport, verifyCell } from "../application/cell-verification.js";
import type { LedgerStore } from "../application/ledger-store.js";
import { BACKUP_FORMAT, type BackupManifest, MANIFEST_FILE, manifestHash } from "./backup-manifest.js";
import { readStoreContents, restoredCopyProblems } from "./ledger-contents.js";

/**
 * Backups of a DynamoDB cell through the AWS API: one on-demand backup
 * (CreateBackup) per cell table, described by the same manifest as an embedded
 * backup. Each table is backed up separately, so the set is not one point in
 * time across tables: the manifest's heads are read from the backups
 * themselves (restored into scratch tables), and verification and restore
 * check every chain against them before anything is trusted.
 */
const TABLES = Object.keys(CELL_TABLES) as CellTableName[];

async function waitActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table?.TableStatus === "ACTIVE") return;
    if (Date.now() > deadline) throw new Error(`${tableName} did not become ACTIVE`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function tableExists(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return true;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/**
 * Restores every table of the backup under `prefix` (they must not exist) and waits until they are ACTIVE. When
 * one table cannot be restored (its backup deleted or expired, say) the others are deleted again once they have
 * settled, so a failed restore leaves no half set of tables behind (and the prefix free for another attempt).
 */
async function restoreTables(
  client: DynamoDBClient,
  manifest: BackupManifest,
  prefix: string,
): Promise<Record<CellTableName, string>> {
  const backups = manifest.dynamodb?.backups ?? {};
  const names = cellTableNames(manifest.cellId, prefix);
  for (const table of TABLES) {
    if (!backups[table]) throw new Error(`the backup has no ${table} table`);
  }
  const outcomes = await Promise.allSettled(
    TABLES.map(async (table) => {
      await client.send(
        new RestoreTableFromBackupCommand({ TargetTableName: names[table], BackupArn: backups[table] as string }),
      );
      await waitActive(client, names[table]);
    }),
  );
  const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (!failed) return names;
  const reason = (failed.reason as Error).message;
  try {
    await dropTables(client, names);
  } catch (error) {
    throw new Error(`${reason}; delete the tables under ${prefix} by hand: ${(error as Error).message}`);
  }
  throw failed.reason;
}

async function dropTables(client: DynamoDBClient, names: Record<CellTableName, string>): Promise<void> {
  await Promise.all(
    Object.values(names).map((name) =>
      client.send(new DeleteTableCommand({ TableName: name })).catch((error: unknown) => {
        if (!(error instanceof ResourceNotFoundException)) throw error;
      }),
    ),
  );
}

/** Runs `use` on the backup restored into throw-away tables, always deleting them afterwards. */
async function withScratchRestore<T>(
  client: DynamoDBClient,
  manifest: BackupManifest,
  basePrefix: string,
  use: (store: LedgerStore) => Promise<T>,
): Promise<T> {
  const prefix = `${basePrefix}-scratch-${randomBytes(4).toString("hex")}`;
  let names: Record<CellTableName, string> | undefined;
  try {
    names = await restoreTables(client, manifest, prefix);
    const store = createDynamoDbLedgerStore({ client, cellId: manifest.cellId, tablePrefix: prefix });
    try {
      return await use(store);
    } finally {
      await store.close();
    }
  } finally {
    await dropTables(client, names ?? cellTableNames(manifest.cellId, prefix));
  }
}

export async function createDynamoDbBackup(input: {
  client: DynamoDBClient;
  region: string;
  cellId: string;
  tablePrefix: string;
  outDir: string;
  now?: () => number;
}): Promise<BackupManifest> {
  if (existsSync(join(input.outDir, MANIFEST_FILE))) throw new Error(`${input.outDir} already holds a backup`);
  const names = cellTableNames(input.cellId, input.tablePrefix);
  for (const table of TABLES) {
    if (!(await tableExists(input.client, names[table]))) {
      throw new Error(`cell ${input.cellId} has no table ${names[table]}`);
    }
  }
  const createdAtMs = (input.now ?? Date.now)();
  const stamp = new Date(createdAtMs).toISOString().replace(/[-:.]/g, "");
  const backups: Record<string, string> = {};
  for (const table of TABLES) {
    const { BackupDetails } = await input.client.send(
      new CreateBackupCommand({ TableName: names[table], BackupName: `${input.cellId}-${table}-${stamp}` }),
    );
    if (!BackupDetails?.BackupArn) throw new Error(`no backup ARN for ${names[table]}`);
    backups[table] = BackupDetails.BackupArn;
  }
  const located = { region: input.region, tablePrefix: input.tablePrefix, backups };
  const draft = { cellId: input.cellId, dynamodb: located } as BackupManifest;
  const contents = await withScratchRestore(input.client, draft, input.tablePrefix, readStoreContents);
  const body: Omit<BackupManifest, "manifestHash"> = {
    format: BACKUP_FORMAT,
    cellId: input.cellId,
    store: "dynamodb",
    createdAt: new Date(createdAtMs).toISOString(),
    createdAtMs,
    dynamodb: located,
    wallets: contents.heads.length,
    entries: contents.entries,
    heads: contents.heads,
    latestCheckpoint: contents.latestCheckpoint,
    pendingTransfers: contents.pendingTransfers,
  };
  const manifest: BackupManifest = { ...body, manifestHash: manifestHash(body) };
  makeDirectory(input.outDir);
  writeFileSync(join(input.outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export interface DynamoDbVerification {
  valid: boolean;
  problems: string[];
  report: CellVerificationReport;
}

async function checkRestored(
  store: LedgerStore,
  manifest: BackupManifest,
  trustedKeys: ReadonlyMap<string, KeyObject>,
): Promise<DynamoDbVerification> {
  const report = await verifyCell(store, manifest.cellId, { trustedKeys });
  const problems = restoredCopyProblems(report, await readStoreContents(store), manifest);
  return { valid: problems.length === 0 && report.valid, problems, report };
}

/** Restores the backup into scratch tables, verifies every chain and head there, and deletes them. */
export async function verifyDynamoDbBackup(
  client: DynamoDBClient,
  manifest: BackupManifest,
  trustedKeys: ReadonlyMap<string, KeyObject>,
): Promise<DynamoDbVerification> {
  const prefix = manifest.dynamodb?.tablePrefix ?? "cellwallet";
  return withScratchRestore(client, manifest, prefix, (store) => checkRestored(store, manifest, trustedKeys));
}

/**
 * Restores the backup as new tables under `targetPrefix` (DynamoDB cannot
 * restore over an existing table: none of them may exist), verifies them, and
 * deletes them again if verification fails, so a refused restore leaves nothing.
 */
export async function restoreDynamoDbBackup(
  client: DynamoDBClient,
  manifest: BackupManifest,
  targetPrefix: string,
  trustedKeys: ReadonlyMap<string, KeyObject>,
  /** Changes to the verified tables before they are reported restored (e.g. wallets that moved away since). */
  adjust?: (store: LedgerStore) => Promise<void>,
): Promise<DynamoDbVerification & { tables: Record<CellTableName, string> }> {
  const names = cellTableNames(manifest.cellId, targetPrefix);
  for (const name of Object.values(names)) {
    if (await tableExists(client, name)) throw new Error(`table ${name} exists: restore under a new --table-prefix`);
  }
  const restored = await restoreTables(client, manifest, targetPrefix);
  const store = createDynamoDbLedgerStore({ client, cellId: manifest.cellId, tablePrefix: targetPrefix });
  let result: DynamoDbVerification | undefined;
  try {
    const checked = await checkRestored(store, manifest, trustedKeys);
    if (checked.valid && adjust) await adjust(store);
    result = checked;
  } finally {
    await store.close();
    // Tables that did not verify, or could not be read, are deleted: a refused restore leaves nothing.
    if (!result?.valid) await dropTables(client, restored);
  }
  return { ...result, tables: restored };
}
