/**
 * `cellctl users` and `cellctl cells drain | retire | rebalance` as operators run them (real processes
 * against a temporary SQLite registry): usage errors, refusals and exit codes, plans, help texts, and
 * the operator audit trail. Moving users between real cells is in e2e/test/*migration*.test.ts.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";

const dir = mkdtempSync(join(tmpdir(), "cellwallet-migration-commands-"));
const registryPath = join(dir, "placement.sqlite");
const env = { PLACEMENT_SQLITE_PATH: registryPath, CELLCTL_OPERATOR: "op-test" };
const cellctl = (args: string[], extra: Record<string, string> = {}) => runCellctl(args, { ...env, ...extra });
// Nothing listens here: commands that must not reach a cell never notice.
const endpoints = [{ az: "az-1", url: "http://127.0.0.1:9", weight: 1 }];

let store: SqlitePlacementStore;

beforeAll(async () => {
  store = new SqlitePlacementStore({ path: registryPath });
  await store.putCell({ cellId: "full", state: "active", capacity: 10, endpoints });
  await store.putCell({ cellId: "empty", state: "active", capacity: 10, endpoints });
  await store.putCell({ cellId: "spare", state: "cordoned", capacity: 10, endpoints });
  for (let i = 0; i < 8; i++) await store.placeUser(`user-${i}`, "full", "policy");
});

afterAll(async () => {
  await store?.close();
});

async function actions(): Promise<{ action: string; target: string }[]> {
  const run = await cellctl(["audit-log", "--json"]);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout).records;
}

describe("cellctl users", () => {
  it("exits 2 for usage errors, unknown users and unknown cells, changing nothing", async () => {
    const none = await cellctl(["users", "migrate", "user-1"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/exactly one of --to <cellId>, --resume or --rollback/);
    expect((await cellctl(["users", "migrate", "user-1", "--to", "empty", "--resume"])).code).toBe(2);
    const unknownCell = await cellctl(["users", "migrate", "user-1", "--to", "nowhere", "--yes"]);
    expect(unknownCell.code).toBe(2);
    expect(unknownCell.stderr).toMatch(/unknown cell nowhere/);
    const unplaced = await cellctl(["users", "migrate", "nobody", "--to", "empty", "--yes"]);
    expect(unplaced.code).toBe(2);
    expect(unplaced.stderr).toMatch(/not placed/);
    const locate = await cellctl(["users", "locate", "nobody"]);
    expect(locate.code).toBe(2);
    // Non-interactive without --yes: not confirmed, exit 2.
    const unconfirmed = await cellctl(["users", "migrate", "user-1", "--to", "empty"]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/--yes/);
    expect(await store.listMigrations()).toEqual([]);
  });

  it("refuses (exit 1) a move the rules forbid: same cell, cordoned target, nothing to resume or roll back", async () => {
    const same = await cellctl(["users", "migrate", "user-1", "--to", "full", "--yes"]);
    expect(same.code).toBe(1);
    expect(same.stderr).toMatch(/already in full/);
    const cordoned = await cellctl(["users", "migrate", "user-1", "--to", "spare", "--yes"]);
    expect(cordoned.code).toBe(1);
    expect(cordoned.stderr).toMatch(/cordoned/);
    expect((await cellctl(["users", "migrate", "user-1", "--resume"])).code).toBe(1);
    expect((await cellctl(["users", "migrate", "user-1", "--rollback"])).code).toBe(1);
    expect(await store.listMigrations()).toEqual([]);
  });

  it("refuses the test-only fault hook in production mode, and an unknown step anywhere", async () => {
    const production = await cellctl(["users", "migrate", "user-1", "--resume"], {
      WALLET_MODE: "production",
      CELL_INTERNAL_SECRET: "a-production-secret-of-at-least-32-characters",
      CELLCTL_FAULT_AFTER_STEP: "frozen",
    });
    expect(production.code).toBe(2);
    expect(production.stderr).toMatch(/test-only fault hook: refused in production mode/);
    const unknown = await cellctl(["users", "migrate", "user-1", "--resume"], { CELLCTL_FAULT_AFTER_STEP: "lunch" });
    expect(unknown.code).toBe(2);
    // Production also refuses the development internal secret.
    const devSecret = await cellctl(["users", "migrate", "user-1", "--resume"], { WALLET_MODE: "production" });
    expect(devSecret.code).toBe(2);
    expect(devSecret.stderr).toMatch(/CELL_INTERNAL_SECRET/);
  });

  it("documents the steps, the rollback limit and examples in --help", async () => {
    const help = await cellctl(["users", "migrate", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/clone .* freeze|freeze/s);
    expect(help.stdout).toMatch(/Until the flip, --rollback/);
    expect(help.stdout).toMatch(/\$ cellctl users migrate alice --to cell-2 --yes/);
    for (const sub of [
      ["users", "locate"],
      ["cells", "drain"],
      ["cells", "retire"],
      ["cells", "rebalance"],
    ]) {
      const h = await cellctl([...sub, "--help"]);
      expect(h.code).toBe(0);
      expect(h.stdout).toMatch(/Examples:/);
      expect(h.stdout).toMatch(/Exit status:/);
    }
  });
});

describe("cellctl cells drain | retire | rebalance", () => {
  it("prints a rebalance plan without changing anything (--dry-run)", async () => {
    const run = await cellctl(["cells", "rebalance", "--dry-run", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const plan = JSON.parse(run.stdout);
    expect(plan).toMatchObject({ dryRun: true, spreadBefore: 80 });
    // From the fullest (full: 8/10) to the emptiest active cell (empty: 0/10); the cordoned cell takes none.
    expect(plan.moves).toHaveLength(4);
    expect(plan.moves.every((m: { from: string; to: string }) => m.from === "full" && m.to === "empty")).toBe(true);
    const human = await cellctl(["cells", "rebalance", "--dry-run", "--max-moves", "2"]);
    expect(human.stdout).toMatch(/fill spread 80% -> 60% with 2 move\(s\)/);
    expect((await store.getCell("full"))?.users).toBe(8);
    expect(await store.listMigrations()).toEqual([]);
    // An invalid option value is a usage error (the help says 2; it used to leak as 1).
    expect((await cellctl(["cells", "rebalance", "--threshold", "150"])).code).toBe(2);
  });

  it("retires only an empty cell, recording it first", async () => {
    const busy = await cellctl(["cells", "retire", "full", "--yes"]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/8 user\(s\) placed; drain it first/);
    expect((await cellctl(["cells", "retire", "ghost", "--yes"])).code).toBe(2);
    expect((await cellctl(["cells", "retire", "spare"])).code).toBe(2); // not confirmed
    const retired = await cellctl(["cells", "retire", "spare", "--yes", "--json"]);
    expect(retired.code, retired.stderr).toBe(0);
    expect(JSON.parse(retired.stdout)).toMatchObject({ cellId: "spare", from: "cordoned", state: "retired" });
    expect((await store.getCell("spare"))?.state).toBe("retired");
    expect((await cellctl(["cells", "drain", "spare", "--yes"])).code).toBe(1);
    const log = await actions();
    expect(log.filter((r) => r.action === "cell.retire").map((r) => r.target)).toEqual(["spare"]);
  });

  it("refuses (exit 1, one line) to drain a cell the other cells have no room for, changing nothing", async () => {
    // Every other cell is full or retired: nobody can be placed elsewhere.
    await store.putCell({ cellId: "empty", state: "active", capacity: 0, endpoints });
    const run = await cellctl(["cells", "drain", "full", "--yes"]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([
      "cellctl: refusing to drain full: the other active cells have room for 0 of its 8 user(s); nothing changed (add room first: cellctl cells register)",
    ]);
    expect((await store.getCell("full"))?.state).toBe("active");
    expect((await actions()).some((r) => r.action === "cell.drain")).toBe(false);
    expect((await cellctl(["cells", "drain", "ghost", "--yes"])).code).toBe(2);
  });

  it("re-running a drain of a cell already draining reports the users it could not move (exit 1)", async () => {
    await store.setCellState("full", "draining", { from: ["active"] });
    const run = await cellctl(["cells", "drain", "full", "--yes", "--json"]);
    expect(run.code, run.stderr).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ cellId: "full", moved: 0, usersLeft: 8, pinned: [] });
    expect(JSON.parse(run.stdout).unplaceable).toHaveLength(8);
    expect((await actions()).some((r) => r.action === "cell.drain" && r.target === "full")).toBe(true);
  });
});
