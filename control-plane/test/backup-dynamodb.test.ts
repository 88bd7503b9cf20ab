import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type BackupManifest, MANIFEST_FILE, manifestHash } from "../../cell-service/src/backup/backup-manifest.js";
import { type CellProcess, startCellProcess } from "../../test-support/cell-process.js";
import { runCellctl } from "../../test-support/cellctl.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";

/**
 * `cellctl backup` for a DynamoDB cell, against moto: one on-demand backup per
 * cell table, verified by restoring into scratch tables (deleted afterwards),
 * restored as new tables under another prefix, verified before it is reported,
 * with the loss window measured against a later exported checkpoint. moto's
 * backups are instant copies; its point-in-time restore ignores the time, so
 * only CreateBackup / RestoreTableFromBackup are used.
 */
const OTHER_KEY = "MC4CAQAwBQYDK2VwBCIEIA8QULA5eprjMAOZdUi5IF5dF4r5DvW1dnfaHSvNkUfs";
const endpoint = inject("motoEndpoint");
const prefix = `bk${randomBytes(3).toString("hex")}`;
const restoredPrefix = `${prefix}r`;
const dataDir = mkdtempSync(join(tmpdir(), "cellwallet-bk-ddb-"));
const storeEnv = {
  WALLET_STORE: "dynamodb",
  DYNAMODB_ENDPOINT: endpoint,
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "test",
  AWS_SECRET_ACCESS_KEY: "test",
};
const env = { ...storeEnv, WALLET_DATA_DIR: dataDir, WALLET_TABLE_PREFIX: prefix };
const cellctl = (args: string[], extra: Record<string, string> = {}) => runCellctl(args, { ...env, ...extra });
/** The backup the first test takes; the second edits copies of it. */
const backupDir = join(dataDir, "bk-1");

/** Every table moto holds, sorted. */
async function tableNames(): Promise<string[]> {
  const client = new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  try {
    const names: string[] = [];
    let start: string | undefined;
    do {
      const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
      names.push(...(page.TableNames ?? []));
      start = page.LastEvaluatedTableName;
    } while (start);
    return names.sort();
  } finally {
    client.destroy();
  }
}

describe("cellctl backup on a DynamoDB cell (moto)", () => {
  let cell: CellProcess;
  let ops: string;
  let walletId: string;
  const deposit = async (url: string, amount: string, key: string) => {
    const res = await http(url, "POST", `/api/v1/wallets/${walletId}/deposit`, {
      token: ops,
      idempotencyKey: key,
      body: { amount },
    });
    expect(res.status, res.text).toBe(201);
  };
  const checkpointCovering = async (entries: number): Promise<number> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const items = JSON.parse((await cellctl(["checkpoints", "--cell", "cell-1", "--json"])).stdout).items as {
        sequence: number;
        entries: number;
      }[];
      const last = items.at(-1);
      if (last && last.entries === entries) return last.sequence;
      if (Date.now() > deadline) throw new Error(`no checkpoint with ${entries} entries`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };

  beforeAll(async () => {
    cell = await startCellProcess({
      ...storeEnv,
      CELL_ID: "cell-1",
      WALLET_TABLE_PREFIX: prefix,
      CHECKPOINT_INTERVAL_MS: "1000",
    });
    const registered = await cellctl([
      "cells",
      "register",
      "cell-1",
      "--capacity",
      "100",
      "--endpoint",
      `az-1=${cell.url}`,
    ]);
    expect(registered.code, registered.stderr).toBe(0);
    ops = await token("ops", "wallet:operator");
    const created = await http(cell.url, "POST", "/api/v1/wallets", { token: ops, body: { userId: "dora" } });
    expect(created.status).toBe(201);
    walletId = created.body.walletId;
  }, 60_000);

  afterAll(async () => {
    await cell?.stop();
  });

  it("backs up, verifies, restores as new tables and reports the writes after the backup as lost", async () => {
    await deposit(cell.url, "10.00", "d1");
    await deposit(cell.url, "5.00", "d2");
    await checkpointCovering(2);
    const out = backupDir;
    const created = await cellctl(["backup", "create", "--cell", "cell-1", "--out", out]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain("1 wallets, 2 entries");

    const verified = await cellctl(["backup", "verify", out]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(
      /^valid: cell-1 .*every chain verified, anchored by signed checkpoint \d+ of \S+ \(it signed 1 wallets and 2 entries, of the backup's 1 and 2:/,
    );
    const wrongKey = await cellctl(["backup", "verify", out], { CHECKPOINT_SIGNING_KEY: OTHER_KEY });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain("signed by an untrusted key");

    await deposit(cell.url, "1.00", "d3");
    await deposit(cell.url, "1.00", "d4");
    const sequence = await checkpointCovering(4);
    const exported = await cellctl(["checkpoints", "--cell", "cell-1", "--export", String(sequence)]);
    const checkpointFile = join(dataDir, "cp.json");
    writeFileSync(checkpointFile, exported.stdout);

    const noPrefix = await cellctl(["backup", "restore", out, "--cell", "cell-1"]);
    expect(noPrefix.code).toBe(2);
    expect(noPrefix.stderr.trim()).toBe(
      "cellctl: a DynamoDB backup restores as new tables: pass --table-prefix <prefix>",
    );
    const overLive = await cellctl(["backup", "restore", out, "--cell", "cell-1", "--table-prefix", prefix]);
    expect(overLive.code).toBe(1);
    expect(overLive.stderr).toContain("exists: restore under a new --table-prefix");

    const restored = await cellctl([
      "backup",
      "restore",
      out,
      "--cell",
      "cell-1",
      "--table-prefix",
      restoredPrefix,
      "--checkpoint",
      checkpointFile,
    ]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain("1 wallets, 2 entries, every chain verified");
    expect(restored.stdout).toContain("2 entries in 1 wallets written after the backup");
    expect(restored.stdout).toContain(`${walletId}: version 4 -> 2 (2 entries, balance difference 200 minor units)`);

    // The restored tables serve the backup's state, and the live cell kept everything.
    const again = await startCellProcess({ ...storeEnv, CELL_ID: "cell-1", WALLET_TABLE_PREFIX: restoredPrefix });
    try {
      const wallet = await http(again.url, "GET", `/api/v1/wallets/${walletId}`, { token: ops });
      expect(wallet.body).toMatchObject({ balance: "15.00", version: 2 });
      const auditor = await token("aud", "wallet:auditor");
      expect((await http(again.url, "GET", `/api/v1/wallets/${walletId}/audit`, { token: auditor })).body.valid).toBe(
        true,
      );
    } finally {
      await again.stop();
    }
    expect((await http(cell.url, "GET", `/api/v1/wallets/${walletId}`, { token: ops })).body.balance).toBe("17.00");

    // No scratch table is left behind by create, verify or restore.
    const names = await tableNames();
    expect(names.filter((n) => n.startsWith(`${prefix}-scratch`))).toEqual([]);
    expect(names.filter((n) => n.startsWith(`${restoredPrefix}-cell-1-`))).toHaveLength(7);
  }, 120_000);

  it("refuses a foreign, damaged, tampered or dangling backup and an unknown cell: one line, non-zero, nothing changed", async () => {
    const manifestBefore = readFileSync(join(backupDir, MANIFEST_FILE), "utf8");
    // This file's tables only: the other test files share the moto server and create tables meanwhile.
    const ownTables = async () => (await tableNames()).filter((name) => name.startsWith(prefix));
    const tablesBefore = await ownTables();
    const oneLine = (r: { stderr: string }) => expect(r.stderr.trim().split("\n")).toHaveLength(1);
    /** A copy of the backup whose manifest is edited by `edit`, its hash recomputed unless `rehash` is false. */
    const variant = (name: string, edit: (m: BackupManifest) => void, rehash = true) => {
      const dir = join(dataDir, name);
      mkdirSync(dir);
      const m = JSON.parse(manifestBefore) as BackupManifest;
      edit(m);
      if (rehash) m.manifestHash = manifestHash(m);
      writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(m));
      return dir;
    };
    const restoreInto = (dir: string, cell: string, suffix: string) =>
      cellctl(["backup", "restore", dir, "--cell", cell, "--table-prefix", `${prefix}${suffix}`]);

    const unknown = await restoreInto(backupDir, "cell-9", "u");
    expect([unknown.code, unknown.stderr.trim()]).toEqual([2, "cellctl: unknown cell cell-9"]);
    const registered = await cellctl([
      "cells",
      "register",
      "cell-2",
      "--capacity",
      "10",
      "--endpoint",
      "az-1=http://127.0.0.1:9",
    ]);
    expect(registered.code, registered.stderr).toBe(0);
    const foreign = await restoreInto(backupDir, "cell-2", "f");
    expect(foreign.code).toBe(1);
    expect(foreign.stderr.trim()).toBe(
      "cellctl: refused: the backup is of cell-1, not cell-2 (wallet ids are cell-scoped; histories never mix)",
    );

    // Damaged: the manifest edited without its hash.
    const damaged = variant(
      "damaged",
      (m) => {
        m.wallets += 1;
      },
      false,
    );
    for (const run of [await cellctl(["backup", "verify", damaged]), await restoreInto(damaged, "cell-1", "d")]) {
      expect(run.code).toBe(2);
      expect(run.stderr.trim()).toBe("cellctl: the manifest's hash does not match its contents");
    }
    // Tampered: a head's balance raised and the (unsigned) manifest hash recomputed; the backups themselves disagree.
    const tampered = variant("tampered", (m) => {
      const head = m.heads[0] as BackupManifest["heads"][number];
      head.balance = String(Number(head.balance) + 100_000);
    });
    const tamperedVerify = await cellctl(["backup", "verify", tampered]);
    expect(tamperedVerify.code).toBe(1);
    expect(tamperedVerify.stderr.trim()).toBe("cellctl: backup INVALID: the wallet heads differ from the manifest");
    const tamperedRestore = await restoreInto(tampered, "cell-1", "t");
    expect(tamperedRestore.code).toBe(1);
    expect(tamperedRestore.stderr).toContain("refused: the restored tables do not verify (deleted again)");
    oneLine(tamperedRestore);
    // Dangling: one table's backup no longer exists in DynamoDB (deleted or expired).
    const dangling = variant("dangling", (m) => {
      const backups = (m.dynamodb as NonNullable<BackupManifest["dynamodb"]>).backups;
      const table = Object.keys(backups)[0] as string;
      backups[table] = `${backups[table]}-gone`;
    });
    const danglingVerify = await cellctl(["backup", "verify", dangling]);
    expect(danglingVerify.code, danglingVerify.stderr).toBe(2);
    oneLine(danglingVerify);
    const danglingRestore = await restoreInto(dangling, "cell-1", "g");
    expect(danglingRestore.code, danglingRestore.stderr).toBe(1);
    expect(danglingRestore.stderr).toMatch(/^cellctl: refused: /);
    oneLine(danglingRestore);

    // Nothing changed: the backup, the tables (no scratch or half-restored table left), the live cell.
    expect(readFileSync(join(backupDir, MANIFEST_FILE), "utf8")).toBe(manifestBefore);
    expect(await ownTables()).toEqual(tablesBefore);
    expect((await http(cell.url, "GET", `/api/v1/wallets/${walletId}`, { token: ops })).body.balance).toBe("17.00");
  }, 120_000);

  it("restores a wallet moved to another cell after the backup read-only: the restored cell names where it went", async () => {
    // dora moves to cell-2 (registered by the previous test) through the placement store's own migration steps.
    const placement = new SqlitePlacementStore({ path: join(dataDir, "control-plane", "placement.sqlite") });
    try {
      await placement.placeUser("dora", "cell-1", "override");
      const migrationId = "m-dora";
      const created = await placement.createMigration({
        migrationId,
        userId: "dora",
        walletId,
        sourceCellId: "cell-1",
        targetCellId: "cell-2",
        fromEpoch: 1,
        actor: "test",
      });
      if (!created.ok) throw new Error(created.reason);
      let step = created.migration.step;
      for (const next of ["cloned", "frozen", "settled", "tail-copied", "activated"] as const) {
        await placement.updateMigration(migrationId, { step, state: "running" }, { step: next });
        step = next;
      }
      expect((await placement.flipPlacement(migrationId)).ok).toBe(true);
    } finally {
      await placement.close();
    }
    const movedPrefix = `${prefix}m`;
    const restored = await cellctl(["backup", "restore", backupDir, "--cell", "cell-1", "--table-prefix", movedPrefix]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`moved to other cells since the backup, restored read-only`);
    expect(restored.stdout).toContain(`  ${walletId} -> cell-2\n`);
    const again = await startCellProcess({ ...storeEnv, CELL_ID: "cell-1", WALLET_TABLE_PREFIX: movedPrefix });
    try {
      const read = await http(again.url, "GET", `/api/v1/wallets/${walletId}`, { token: ops });
      expect(read.status, read.text).toBe(503);
      expect(read.headers.get("wallet-location")).toBe("cell-2");
    } finally {
      await again.stop();
    }
  }, 120_000);
});
