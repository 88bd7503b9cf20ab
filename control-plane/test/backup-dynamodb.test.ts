import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
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
    const out = join(dataDir, "bk-1");
    const created = await cellctl(["backup", "create", "--cell", "cell-1", "--out", out]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain("1 wallets, 2 entries");

    const verified = await cellctl(["backup", "verify", out]);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^valid: cell-1 .*every chain verified, anchored by the signed checkpoint/);
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
      expect(names.filter((n) => n.startsWith(`${prefix}-scratch`))).toEqual([]);
      expect(names.filter((n) => n.startsWith(`${restoredPrefix}-cell-1-`))).toHaveLength(7);
    } finally {
      client.destroy();
    }
  }, 120_000);
});
