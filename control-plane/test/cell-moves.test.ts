import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CellState, SqlitePlacementStore } from "@cellwallet/placement";
import { afterEach, describe, expect, it } from "vitest";
import type { OperatorActionInput } from "../src/audit/operator-log.js";
import { drainCell } from "../src/migration/drain-cell.js";
import type { MigrationDeps } from "../src/migration/migrate-user.js";
import type { MoveContext } from "../src/migration/move-users.js";
import { planCellRebalance } from "../src/migration/rebalance-cells.js";

/**
 * The drain and rebalance use cases without commander: against a real placement registry, in the cases that
 * need no cell (no room anywhere, nothing to move); the moves themselves are covered by the e2e drain test.
 */
const stores: SqlitePlacementStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

async function registry(cells: { cellId: string; state: CellState; capacity: number; users: number }[]) {
  const store = new SqlitePlacementStore({ path: join(mkdtempSync(join(tmpdir(), "cell-moves-")), "p.sqlite") });
  stores.push(store);
  for (const cell of cells) {
    await store.putCell({
      cellId: cell.cellId,
      state: "active",
      capacity: cell.capacity,
      endpoints: [{ az: "az1", url: "http://127.0.0.1:9", weight: 1 }],
    });
    for (let i = 0; i < cell.users; i++) await store.placeUser(`${cell.cellId}-user-${i}`, cell.cellId, "policy");
    if (cell.state !== "active") await store.setCellState(cell.cellId, cell.state, { from: ["active"] });
  }
  return store;
}

function context(store: SqlitePlacementStore) {
  const recorded: OperatorActionInput[] = [];
  const lines: string[] = [];
  const ctx: MoveContext = {
    // No cell client: these cases must not migrate anyone (a call would throw).
    deps: { store, cells: undefined as unknown as MigrationDeps["cells"] },
    actor: "op-test",
    record: async (input) => void recorded.push(input),
    hooks: () => ({}),
    progress: (line) => void lines.push(line),
  };
  return { ctx, recorded, lines };
}

describe("drainCell", () => {
  it("reports the users no active cell has room for, moves nobody, and says the cell is not empty", async () => {
    const store = await registry([
      { cellId: "cell-a", state: "draining", capacity: 10, users: 2 },
      { cellId: "cell-b", state: "cordoned", capacity: 10, users: 0 },
    ]);
    const { ctx, recorded } = context(store);
    const outcome = await drainCell(ctx, "cell-a");
    expect(outcome).toMatchObject({ cellId: "cell-a", results: [], failed: [], usersLeft: 2, empty: false });
    expect(outcome.unplaceable.sort()).toEqual(["cell-a-user-0", "cell-a-user-1"]);
    expect(recorded).toEqual([]);
  });

  it("plans override-pinned users (the canary) last and reports them", async () => {
    const store = await registry([
      { cellId: "cell-a", state: "active", capacity: 10, users: 0 },
      { cellId: "cell-b", state: "cordoned", capacity: 10, users: 0 },
    ]);
    for (const userId of ["a-canary", "b-user", "c-user"]) {
      if (userId === "a-canary") await store.setOverride(userId, "cell-a");
      await store.placeUser(userId, "cell-a", userId === "a-canary" ? "override" : "policy");
    }
    await store.setOverride("c-user", "cell-b"); // pinned elsewhere: not pinned here
    await store.setCellState("cell-a", "draining", { from: ["active"] });
    const outcome = await drainCell(context(store).ctx, "cell-a");
    expect(outcome.pinned).toEqual(["a-canary"]);
    expect(outcome.unplaceable).toEqual(["b-user", "c-user", "a-canary"]);
  });

  it("says an empty cell is empty", async () => {
    const store = await registry([{ cellId: "cell-a", state: "draining", capacity: 10, users: 0 }]);
    const outcome = await drainCell(context(store).ctx, "cell-a");
    expect(outcome).toMatchObject({ results: [], unplaceable: [], usersLeft: 0, empty: true });
  });
});

describe("planCellRebalance", () => {
  it("plans moves from the fullest to the emptiest active cell within the threshold and the move limit", async () => {
    const store = await registry([
      { cellId: "cell-a", state: "active", capacity: 10, users: 6 },
      { cellId: "cell-b", state: "active", capacity: 10, users: 0 },
    ]);
    const plan = await planCellRebalance(store, { threshold: 0.1, maxMoves: 10 });
    expect(plan.spreadBefore).toBe(60);
    expect(plan.moves).toHaveLength(3);
    expect(plan.moves.every((m) => m.from === "cell-a" && m.to === "cell-b")).toBe(true);
    expect(plan.spreadAfter).toBe(0);
    const limited = await planCellRebalance(store, { threshold: 0.1, maxMoves: 1 });
    expect(limited.moves).toHaveLength(1);
    expect(limited.spreadAfter).toBe(40);
  });

  it("plans nothing when the cells are within the threshold", async () => {
    const store = await registry([
      { cellId: "cell-a", state: "active", capacity: 10, users: 3 },
      { cellId: "cell-b", state: "active", capacity: 10, users: 2 },
    ]);
    expect((await planCellRebalance(store, { threshold: 0.2, maxMoves: 10 })).moves).toEqual([]);
  });
});
