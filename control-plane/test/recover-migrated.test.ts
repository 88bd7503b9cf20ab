import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CellProcess, startCellProcess } from "../../test-support/cell-process.js";
import { runCellctl } from "../../test-support/cellctl.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";

/**
 * `cellctl backup recover-migrated` takes a wallet's history only from the read-only copy its move left in the
 * source cell. Here the placement store records a completed move of eve from cell-a to cell-b, but cell-a still
 * holds her wallet live (the move never froze it): copying that would make a second live copy of her money. The
 * command refuses it, names the wallet and why, exits 1, and changes nothing in either cell.
 */
describe("cellctl backup recover-migrated refuses a source that does not hold the move's read-only copy", () => {
  const dir = mkdtempSync(join(tmpdir(), "recover-migrated-"));
  const placementPath = join(dir, "placement.sqlite");
  const cells: Record<string, CellProcess> = {};
  let walletId = "";

  beforeAll(async () => {
    for (const cellId of ["cell-a", "cell-b"]) {
      cells[cellId] = await startCellProcess({
        CELL_ID: cellId,
        WALLET_STORE: "sqlite",
        WALLET_SQLITE_PATH: join(dir, `${cellId}.sqlite`),
      });
    }
    const eve = await token("eve");
    const created = await http(cells["cell-a"]?.url ?? "", "POST", "/api/v1/wallets", {
      token: eve,
      body: { userId: "eve" },
    });
    expect(created.status).toBe(201);
    walletId = created.body.walletId;
    const ops = await token("ops", "wallet:operator");
    const deposit = { token: ops, body: { amount: "5.00" } };
    expect(
      (await http(cells["cell-a"]?.url ?? "", "POST", `/api/v1/wallets/${walletId}/deposit`, deposit)).status,
    ).toBe(201);

    const placement = new SqlitePlacementStore({ path: placementPath });
    try {
      for (const cellId of ["cell-a", "cell-b"]) {
        await placement.putCell({
          cellId,
          state: "active",
          capacity: 100,
          endpoints: [{ az: "az-1", url: cells[cellId]?.url ?? "", weight: 1 }],
        });
      }
      await placement.placeUser("eve", "cell-a", "override");
      const migrationId = "m-eve";
      const started = await placement.createMigration({
        migrationId,
        userId: "eve",
        walletId,
        sourceCellId: "cell-a",
        targetCellId: "cell-b",
        fromEpoch: 1,
        actor: "test",
      });
      if (!started.ok) throw new Error(started.reason);
      let step = started.migration.step;
      for (const next of ["cloned", "frozen", "settled", "tail-copied", "activated"] as const) {
        await placement.updateMigration(migrationId, { step, state: "running" }, { step: next });
        step = next;
      }
      expect((await placement.flipPlacement(migrationId)).ok).toBe(true);
      const flipped = await placement.getMigration(migrationId);
      await placement.updateMigration(
        migrationId,
        { step: flipped?.step ?? "flipped", state: "running" },
        { step: "moved", state: "completed" },
      );
    } finally {
      await placement.close();
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all(Object.values(cells).map((c) => c.stop()));
  });

  it("exits 1 naming the wallet and why, and neither cell changes", async () => {
    const run = await runCellctl(["backup", "recover-migrated", "--cell", "cell-b"], {
      PLACEMENT_SQLITE_PATH: placementPath,
      CELLCTL_OPERATOR: "test",
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stdout.trim()).toBe(
      `NOT recovered ${walletId} (eve) from cell-a: cell-a holds ${walletId} for eve as active, ` +
        "not as the read-only copy of the move to cell-b",
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);

    const ops = await token("ops", "wallet:operator");
    expect((await http(cells["cell-b"]?.url ?? "", "GET", `/api/v1/wallets/${walletId}`, { token: ops })).status).toBe(
      404,
    );
    const source = await http(cells["cell-a"]?.url ?? "", "GET", `/api/v1/wallets/${walletId}`, { token: ops });
    expect([source.status, source.body.balance]).toEqual([200, "5.00"]);
    const trail = await runCellctl(["audit-log", "--json"], { PLACEMENT_SQLITE_PATH: placementPath });
    expect(JSON.parse(trail.stdout).records.map((r: { action: string }) => r.action)).toContain(
      "backup.recover-migrated",
    );
  }, 60_000);
});
