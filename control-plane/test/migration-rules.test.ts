import type { CellRecord } from "@cellwallet/placement";
import { MIGRATION_STEPS, type MigrationStep } from "@cellwallet/placement";
import { describe, expect, it } from "vitest";
import { nextAction, planRefusal, rollbackPlan, stepIndex, writesPaused } from "../src/migration/migration-steps.js";
import { planDrain, planRebalance } from "../src/migration/rebalance-plan.js";

const cell = (cellId: string, users: number, capacity: number, state: CellRecord["state"] = "active"): CellRecord => ({
  cellId,
  state,
  capacity,
  users,
  endpoints: [],
  updatedAt: 0,
});
const usersIn = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-u${i}`);

describe("migration state machine", () => {
  it("walks forward through every step to done, one action per persisted step", () => {
    const actions = MIGRATION_STEPS.map((step) => nextAction({ step, state: "running" }));
    expect(actions).toEqual(["clone", "freeze", "settle", "copy-tail", "activate", "flip", "mark-moved", "done"]);
    expect(nextAction({ step: "moved", state: "completed" })).toBe("done");
    expect(nextAction({ step: "frozen", state: "rolling-back" })).toBe("rollback");
    expect(nextAction({ step: "cloned", state: "rolled-back" })).toBe("done");
  });

  it("rolls back up to the flip, abandoning the target before unfreezing the source", () => {
    for (const step of ["planned", "cloned", "frozen", "settled", "tail-copied", "activated"] as MigrationStep[]) {
      expect(rollbackPlan({ step, state: "running" })).toEqual({
        ok: true,
        undo: ["abandon-target", "unfreeze-source"],
      });
      expect(rollbackPlan({ step, state: "rolling-back" }).ok).toBe(true);
    }
    for (const step of ["flipped", "moved"] as MigrationStep[]) {
      const plan = rollbackPlan({ step, state: "running" });
      expect(plan.ok).toBe(false);
      if (!plan.ok) expect(plan.reason).toMatch(/--resume/);
    }
    expect(rollbackPlan({ step: "moved", state: "completed" })).toMatchObject({ ok: false });
    expect(rollbackPlan({ step: "frozen", state: "rolled-back" })).toEqual({ ok: true, undo: [] });
  });

  it("says when the user's writes are paused: from the freeze until the source is marked moved", () => {
    const paused = MIGRATION_STEPS.filter((step) => writesPaused({ step, state: "running" }));
    expect(paused).toEqual(["frozen", "settled", "tail-copied", "activated", "flipped"]);
    expect(writesPaused({ step: "frozen", state: "rolled-back" })).toBe(false);
    expect(stepIndex("planned")).toBe(0);
  });

  it("refuses to plan a move that makes no sense", () => {
    const target = { cellId: "b", state: "active", users: 1, capacity: 10 };
    expect(planRefusal({ userPlacedIn: "a", target, active: undefined })).toBeUndefined();
    expect(planRefusal({ userPlacedIn: undefined, target, active: undefined })).toMatch(/not placed/);
    expect(planRefusal({ userPlacedIn: "a", target: undefined, active: undefined })).toMatch(/unknown/);
    expect(planRefusal({ userPlacedIn: "b", target, active: undefined })).toMatch(/already in b/);
    expect(planRefusal({ userPlacedIn: "a", target: { ...target, state: "cordoned" }, active: undefined })).toMatch(
      /cordoned/,
    );
    expect(planRefusal({ userPlacedIn: "a", target: { ...target, users: 10 }, active: undefined })).toMatch(/full/);
    expect(planRefusal({ userPlacedIn: "a", target, active: { migrationId: "m1" } })).toMatch(/--resume/);
  });
});

describe("rebalance planner", () => {
  it("moves users from the fullest to the emptiest cell until the spread is within the threshold", () => {
    const cells = [cell("a", 8, 10), cell("b", 2, 10), cell("c", 5, 10)];
    const users: Record<string, string[]> = { a: usersIn("a", 8), b: usersIn("b", 2), c: usersIn("c", 5) };
    const plan = planRebalance(cells, (id) => users[id] ?? [], { threshold: 0.1, maxMoves: 100 });
    expect(plan.spreadBefore).toBeCloseTo(0.6);
    expect(plan.spreadAfter).toBeLessThanOrEqual(0.1 + 1e-9);
    const after = new Map([
      ["a", 8],
      ["b", 2],
      ["c", 5],
    ]);
    for (const m of plan.moves) {
      after.set(m.from, (after.get(m.from) ?? 0) - 1);
      after.set(m.to, (after.get(m.to) ?? 0) + 1);
      expect(users[m.from]).toContain(m.userId);
    }
    const counts = [...after.values()];
    expect(counts.reduce((x, y) => x + y, 0)).toBe(15);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(new Set(plan.moves.map((m) => m.userId)).size).toBe(plan.moves.length);
    // Deterministic.
    expect(planRebalance(cells, (id) => users[id] ?? [], { threshold: 0.1, maxMoves: 100 })).toEqual(plan);
  });

  it("respects maxMoves, compares fill levels (not counts), never targets a cordoned, draining or full cell", () => {
    const users = (id: string) => usersIn(id, 50);
    expect(
      planRebalance([cell("a", 50, 100), cell("b", 10, 100)], users, { threshold: 0.05, maxMoves: 3 }).moves,
    ).toHaveLength(3);
    // 50/100 and 100/200 are equally full.
    expect(
      planRebalance([cell("a", 50, 100), cell("b", 100, 200)], users, { threshold: 0, maxMoves: 9 }).moves,
    ).toEqual([]);
    const moves = planRebalance(
      [cell("a", 9, 10, "cordoned"), cell("b", 0, 10, "draining"), cell("c", 0, 10, "retired"), cell("d", 1, 2)],
      users,
      { threshold: 0, maxMoves: 9 },
    ).moves;
    expect(moves.every((m) => m.to === "d" && m.from === "a")).toBe(true);
    expect(moves).toHaveLength(1);
  });

  it("does nothing for balanced cells or a single cell, and never overshoots", () => {
    expect(
      planRebalance([cell("a", 5, 10), cell("b", 5, 10)], (id) => usersIn(id, 5), { threshold: 0, maxMoves: 9 }).moves,
    ).toEqual([]);
    expect(planRebalance([cell("a", 5, 10)], (id) => usersIn(id, 5), { threshold: 0, maxMoves: 9 }).moves).toEqual([]);
    // 3 vs 2: moving one would give 2 vs 3, no better.
    expect(
      planRebalance([cell("a", 3, 10), cell("b", 2, 10)], (id) => usersIn(id, 3), { threshold: 0, maxMoves: 9 }).moves,
    ).toEqual([]);
  });
});

describe("drain planner", () => {
  it("places every user of the draining cell by the policy, filling the emptiest active cells first", () => {
    const cells = [cell("src", 4, 10, "draining"), cell("b", 0, 10), cell("c", 3, 10), cell("d", 0, 10, "cordoned")];
    const plan = planDrain(cells, "src", ["u1", "u2", "u3", "u4"]);
    expect(plan.unplaceable).toEqual([]);
    expect(plan.moves.map((m) => m.to).filter((t) => t === "b")).toHaveLength(3);
    expect(plan.moves.every((m) => m.from === "src" && (m.to === "b" || m.to === "c"))).toBe(true);
  });

  it("reports the users no cell can take", () => {
    const plan = planDrain([cell("src", 3, 10, "draining"), cell("b", 9, 10)], "src", ["u1", "u2", "u3"]);
    expect(plan.moves).toHaveLength(1);
    expect(plan.unplaceable).toHaveLength(2);
  });
});
