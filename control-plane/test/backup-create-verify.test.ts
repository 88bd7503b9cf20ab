/**
 * `cellctl backup create | verify | list` on an embedded ledger built here (no cell process): the counts every
 * command prints by one definition, what the checkpoint anchoring covers, and a cell whose chain does not verify
 * never backed up with exit 0.
 */
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { ulid } from "ulid";
import { beforeAll, describe, expect, it } from "vitest";
import { SqliteLedgerStore } from "../../cell-service/src/adapters/sqlite/sqlite-ledger-store.js";
import { CheckpointJob } from "../../cell-service/src/application/checkpoint-job.js";
import { DEVELOPMENT_CHECKPOINT_KEY, signerFromPkcs8 } from "../../cell-service/src/domain/checkpoint.js";
import { runCellctl } from "../../test-support/cellctl.js";
import { postEntry, seedWallet } from "../../test-support/ledger-fixtures.js";
import { openTamperer } from "../../test-support/tamper.js";

const dir = mkdtempSync(join(tmpdir(), "cellwallet-backup-cli-"));
const env = { WALLET_DATA_DIR: dir, CELLCTL_OPERATOR: "op-test" };
const ledgerPath = join(dir, "cell-b", "ledger.sqlite");
let owned = "";

beforeAll(async () => {
  const placement = new SqlitePlacementStore({ path: join(dir, "control-plane", "placement.sqlite") });
  await placement.putCell({
    cellId: "cell-b",
    state: "active",
    capacity: 10,
    endpoints: [{ az: "az-1", url: "http://127.0.0.1:9", weight: 1 }],
  });
  await placement.close();
  mkdirSync(join(dir, "cell-b"), { recursive: true });
  const store = new SqliteLedgerStore({ path: ledgerPath });
  owned = (await seedWallet(store, [1000n, 200n])).walletId; // 2 entries
  // A wallet moved to another cell since: a read-only copy here with 3 entries, not this cell's money.
  const moved = await seedWallet(store, [5n, 5n, 5n]);
  expect(
    await store.setWalletOwnership(
      moved.walletId,
      { state: "active" },
      { state: "moved", epoch: 2, peerCellId: "cell-c", migrationId: "m-1" },
    ),
  ).toBe(true);
  // A signed checkpoint of the cell as it is now (1 wallet, 2 entries), then one more entry after it.
  const job = new CheckpointJob(store, {
    cellId: "cell-b",
    signer: signerFromPkcs8(DEVELOPMENT_CHECKPOINT_KEY),
    intervalMs: 1,
    newId: () => ulid(),
  });
  expect((await job.runOnce()).outcome).toBe("created");
  await postEntry(store, owned, 300n);
  await store.close();
});

describe("cellctl backup create | verify | list", () => {
  it("count wallets and entries by one definition in text and --json, and say what the checkpoint signed", async () => {
    const out = join(dir, "backups", "b1");
    const created = await runCellctl(["backup", "create", "--cell", "cell-b", "--out", out], env);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain("1 wallets, 3 entries (+ 1 read-only migration copies)");
    expect(created.stdout).toContain("every chain verified");

    const text = await runCellctl(["backup", "verify", out], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain("cell-b at ");
    expect(text.stdout).toContain("1 wallets, 3 entries (+ 1 read-only migration copies)");
    expect(text.stdout).toMatch(
      /anchored by signed checkpoint 1 of \S+ \(it signed 1 wallets and 2 entries, of the backup's 1 and 3: entries written after it are checked by their hash chains only\)/,
    );
    const json = JSON.parse((await runCellctl(["backup", "verify", out, "--json"], env)).stdout);
    expect(json).toMatchObject({
      valid: true,
      wallets: 1,
      entries: 3,
      migrationCopies: 1,
      checkpoint: 1,
      anchored: true,
      checkpointCovers: { wallets: 1, entries: 2 },
    });
    const listed = JSON.parse((await runCellctl(["backup", "list", "--json"], env)).stdout);
    expect(listed.items).toEqual([expect.objectContaining({ wallets: 1, entries: 3, migrationCopies: 1 })]);
  });

  it("exits 1 with one line when the cell's chain does not verify, keeping the backup as evidence", async () => {
    const tamperer = openTamperer(
      { store: undefined as never, cellId: "cell-b", env: { WALLET_SQLITE_PATH: ledgerPath } },
      "",
    );
    await tamperer.changeEntryAmount(owned, 1, 1n);
    await tamperer.close();
    const out = join(dir, "backups", "tampered");
    const created = await runCellctl(["backup", "create", "--cell", "cell-b", "--out", out], env);
    expect(created.code).toBe(1);
    const lines = created.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^cellctl: backup of cell-b written to .*tampered but it does not verify \(backup restore refuses it; kept as evidence\): .*wallet .* chain invalid from sequence 1/,
    );
    expect(existsSync(join(out, "manifest.json"))).toBe(true);
    const json = await runCellctl(
      ["backup", "create", "--cell", "cell-b", "--out", join(dir, "backups", "t2"), "--json"],
      env,
    );
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      verified: false,
      problems: [expect.stringMatching(/chain invalid/)],
    });
  });
});
