/**
 * `cellctl verify` as operators run it: a real cellctl process reading a real
 * placement registry (SQLite) and calling real cells over HTTP.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CheckpointJob } from "../../cell-service/src/application/checkpoint-job.js";
import { DEVELOPMENT_CHECKPOINT_KEY, signerFromPkcs8 } from "../../cell-service/src/domain/checkpoint.js";
import { type InProcessCell, startInProcessCell } from "../../test-support/cell-server.js";
import { runCellctl } from "../../test-support/cellctl.js";
import { seedWallet } from "../../test-support/ledger-fixtures.js";
import { freePort } from "../../test-support/moto-server.js";
import { openTestStore, type TestStore } from "../../test-support/stores.js";
import { openTamperer } from "../../test-support/tamper.js";

const cellctl = runCellctl;

describe("cellctl verify", () => {
  const stores: TestStore[] = [];
  const cells: InProcessCell[] = [];
  let env: Record<string, string>;
  let clean: TestStore;
  let tampered: TestStore;
  let tamperedWallet: string;

  beforeAll(async () => {
    const motoEndpoint = inject("motoEndpoint");
    clean = await openTestStore("sqlite", motoEndpoint);
    tampered = await openTestStore("sqlite", motoEndpoint);
    stores.push(clean, tampered);
    await seedWallet(clean.store, [100n, 200n]);
    const signer = signerFromPkcs8(DEVELOPMENT_CHECKPOINT_KEY);
    await new CheckpointJob(clean.store, {
      cellId: clean.cellId,
      signer,
      intervalMs: 60_000,
      newId: () => "SNAP1",
    }).runOnce();
    await seedWallet(tampered.store, [100n]);
    tamperedWallet = (await seedWallet(tampered.store, [500n, 300n, 200n])).walletId;
    const attacker = openTamperer(tampered, motoEndpoint);
    await attacker.changeEntryAmount(tamperedWallet, 2, 1n);
    await attacker.close();

    const placementPath = join(mkdtempSync(join(tmpdir(), "cellwallet-verify-")), "placement.sqlite");
    const placement = new SqlitePlacementStore({ path: placementPath });
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    for (const s of [clean, tampered]) {
      const cell = await startInProcessCell(s.store, { CELL_ID: s.cellId });
      cells.push(cell);
      // The preferred replica is down: cellctl must fall back to the live one.
      await placement.putCell({
        cellId: s.cellId,
        state: "active",
        capacity: 100,
        endpoints: [
          { az: "az-1", url: deadUrl, weight: 2 },
          { az: "az-2", url: cell.url, weight: 1 },
        ],
      });
    }
    await placement.putCell({
      cellId: "unreachable",
      state: "cordoned",
      capacity: 100,
      endpoints: [{ az: "az-1", url: deadUrl, weight: 1 }],
    });
    await placement.close();
    env = { PLACEMENT_SQLITE_PATH: placementPath };
  });

  afterAll(async () => {
    for (const cell of cells) await cell.close();
    for (const s of stores) await s.store.close();
  });

  it("a clean cell: exit 0 and a VALID row with its wallet and entry counts", async () => {
    const run = await cellctl(["verify", "--cell", clean.cellId], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^CELL\s+STATUS\s+WALLETS\s+ENTRIES\s+INVALID/);
    expect(run.stdout).toMatch(new RegExp(`${clean.cellId}\\s+VALID\\s+1\\s+2\\s+0\\s+1 ok`));
  });

  it("cellctl checkpoints lists a cell's checkpoints and exports one with its heads and public key", async () => {
    const list = await cellctl(["checkpoints", "--cell", clean.cellId], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^SEQ\s+CREATED/);
    expect(list.stdout).toMatch(/\n1\s+\S+Z\s+1\s+2\s+USD:300/);
    const exported = await cellctl(["checkpoints", "--cell", clean.cellId, "--export", "1"], env);
    expect(exported.code, exported.stderr).toBe(0);
    const body = JSON.parse(exported.stdout);
    expect(body.checkpoint).toMatchObject({ sequence: 1, cellId: clean.cellId, wallets: 1, entries: 2 });
    expect(body.heads).toEqual([expect.objectContaining({ balance: "300", version: 2 })]);
    expect(body.publicKey).toEqual(expect.any(String));
    const missing = await cellctl(["checkpoints", "--cell", clean.cellId, "--export", "7"], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/HTTP 404/);
  });

  it("a tampered cell: exit 1, naming the wallet and the first invalid sequence (table and --json)", async () => {
    const run = await cellctl(["verify", "--cell", tampered.cellId], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`${tampered.cellId}\\s+INVALID\\s+2\\s+4\\s+1`));
    expect(run.stdout).toContain(`wallet ${tamperedWallet}: first invalid sequence 2`);
    const json = await cellctl(["verify", "--cell", tampered.cellId, "--json"], env);
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.valid).toBe(false);
    expect(parsed.cells[0]).toMatchObject({ cellId: tampered.cellId, valid: false, invalidCount: 1 });
    expect(parsed.cells[0].invalidWallets).toEqual([
      expect.objectContaining({ walletId: tamperedWallet, firstInvalidSequence: 2 }),
    ]);
  });

  it("--all covers every cell; tampering (1) outranks an unreachable cell (2)", async () => {
    const run = await cellctl(["verify", "--all", "--json"], env);
    expect(run.code).toBe(1);
    const parsed = JSON.parse(run.stdout);
    const byId = new Map(parsed.cells.map((c: { cellId: string }) => [c.cellId, c]));
    expect(byId.get(clean.cellId)).toMatchObject({ valid: true });
    expect(byId.get(tampered.cellId)).toMatchObject({ valid: false });
    expect(byId.get("unreachable")).toMatchObject({ error: expect.stringMatching(/fetch failed|ECONNREFUSED/) });
  });

  it("an unreachable or unknown cell exits 2; bad arguments and a foreign secret are refused", async () => {
    const down = await cellctl(["verify", "--cell", "unreachable"], env);
    expect(down.code).toBe(2);
    expect(down.stdout).toMatch(/unreachable\s+ERROR/);
    const unknown = await cellctl(["verify", "--cell", "no-such-cell"], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown cell no-such-cell/);
    const neither = await cellctl(["verify"], env);
    expect(neither.code).not.toBe(0);
    expect(neither.stderr).toMatch(/exactly one of --cell/);
    // A token the cells do not accept is not a verdict: exit 2, never 0.
    const foreign = await cellctl(["verify", "--cell", clean.cellId], {
      ...env,
      WALLET_JWT_SECRET: "another-secret-the-cells-do-not-know-at-all",
    });
    expect(foreign.code).toBe(2);
    expect(foreign.stdout).toMatch(/HTTP 401/);
    const production = await cellctl(["verify", "--cell", clean.cellId], { ...env, WALLET_MODE: "production" });
    expect(production.code).not.toBe(0);
    expect(production.stderr).toMatch(/production mode refuses the development secret/);
  });
});
