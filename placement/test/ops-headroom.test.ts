import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { onboardUser } from "../src/onboard-user.js";
import { aboveOpsThreshold, DEFAULT_OPS_THRESHOLD, opsHeadroomPercent } from "../src/ops-headroom.js";
import { choosePlacementCell } from "../src/placement-policy.js";
import type { CellRecord } from "../src/placement-store.js";
import { SqlitePlacementStore } from "../src/sqlite-placement-store.js";

/** Onboarding's cell-capacity rule: no new user for a cell running above its ops/s threshold. */

const cell = (cellId: string, maxOpsPerSecond?: number, users = 0): CellRecord => ({
  cellId,
  state: "active",
  capacity: 1000,
  users,
  endpoints: [{ az: "az-1", url: "http://127.0.0.1:1", weight: 1 }],
  updatedAt: 0,
  ...(maxOpsPerSecond === undefined ? {} : { maxOpsPerSecond }),
});

describe("the ops/s threshold rule", () => {
  it("is above only past threshold × maxOpsPerSecond, never at it", () => {
    expect(DEFAULT_OPS_THRESHOLD).toBe(0.8);
    expect(aboveOpsThreshold(cell("c", 1000), 800, 0.8)).toBe(false);
    expect(aboveOpsThreshold(cell("c", 1000), 800.1, 0.8)).toBe(true);
    expect(aboveOpsThreshold(cell("c", 1000), 100, 0.05)).toBe(true);
  });

  it("judges a cell never measured, or with an unknown rate, by its users alone", () => {
    expect(aboveOpsThreshold(cell("c"), 1e9, 0.8)).toBe(false);
    expect(aboveOpsThreshold(cell("c", 1000), undefined, 0.8)).toBe(false);
    expect(aboveOpsThreshold(cell("c", 1000), Number.NaN, 0.8)).toBe(false);
  });

  it("computes headroom as the spare share of maxOpsPerSecond", () => {
    expect(opsHeadroomPercent(cell("c", 1000), 250)).toBe(75);
    expect(opsHeadroomPercent(cell("c", 1000), 1200)).toBe(-20);
    expect(opsHeadroomPercent(cell("c", 1000), null)).toBeNull();
    expect(opsHeadroomPercent(cell("c"), 10)).toBeNull();
  });

  it("makes the policy skip a hot cell even when it is the least filled", () => {
    const cells = [cell("cell-1", 1000, 0), cell("cell-2", 1000, 500)];
    const rates: Record<string, number> = { "cell-1": 900, "cell-2": 100 };
    const load = { rate: (id: string) => rates[id], threshold: 0.8 };
    expect(choosePlacementCell(cells, "u1")).toEqual({ ok: true, cellId: "cell-1" });
    for (const user of ["u1", "u2", "u3", "u4"])
      expect(choosePlacementCell(cells, user, load)).toEqual({ ok: true, cellId: "cell-2" });
    rates["cell-2"] = 801;
    expect(choosePlacementCell(cells, "u1", load)).toEqual({ ok: false, reason: "no-capacity" });
  });
});

describe("onboarding against a real store", () => {
  it("refuses a cell above its threshold, places in one below, and answers no-capacity when all are above", async () => {
    const store = new SqlitePlacementStore({
      path: join(mkdtempSync(join(tmpdir(), "ops-headroom-")), "placement.sqlite"),
    });
    try {
      for (const id of ["cell-1", "cell-2"])
        await store.putCell({
          cellId: id,
          state: "active",
          capacity: 100,
          endpoints: [{ az: "az-1", url: "http://127.0.0.1:1", weight: 1 }],
        });
      await store.setCellMaxOpsPerSecond("cell-1", 500);
      await store.setCellMaxOpsPerSecond("cell-2", 500);
      const rates: Record<string, number> = { "cell-1": 450, "cell-2": 50 };
      const load = { rate: (id: string) => rates[id], threshold: 0.8 };
      for (let i = 0; i < 6; i++) {
        const placed = await onboardUser(store, `user-${i}`, { load });
        expect(placed).toMatchObject({ ok: true, placement: { cellId: "cell-2" } });
      }
      rates["cell-2"] = 401;
      expect(await onboardUser(store, "late", { load })).toEqual({ ok: false, reason: "no-capacity" });
      expect(await store.getUserPlacement("late")).toBeUndefined();
      // An operator's override still pins (quarantine, tests): the ops rule binds the policy only.
      await store.setOverride("pinned", "cell-1");
      expect(await onboardUser(store, "pinned", { load })).toMatchObject({ ok: true, placement: { cellId: "cell-1" } });
    } finally {
      await store.close();
    }
  });

  it("adds the measured-capacity column to a placement file made before it, keeping its cells", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "ops-upgrade-")), "placement.sqlite");
    const old = new Database(path);
    old.exec(`CREATE TABLE cells (cell_id TEXT PRIMARY KEY, state TEXT NOT NULL, capacity INTEGER NOT NULL,
      users INTEGER NOT NULL, endpoints TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT`);
    old.prepare("INSERT INTO cells VALUES ('cell-1', 'active', 10, 3, '[]', 1)").run();
    old.close();
    const store = new SqlitePlacementStore({ path });
    try {
      expect(await store.getCell("cell-1")).toEqual({
        cellId: "cell-1",
        state: "active",
        capacity: 10,
        users: 3,
        endpoints: [],
        updatedAt: 1,
      });
      expect((await store.setCellMaxOpsPerSecond("cell-1", 42))?.maxOpsPerSecond).toBe(42);
    } finally {
      await store.close();
    }
    // Opening it again (another process, a restart) leaves the column and the value alone.
    const again = new SqlitePlacementStore({ path });
    try {
      expect((await again.getCell("cell-1"))?.maxOpsPerSecond).toBe(42);
    } finally {
      await again.close();
    }
  });
});
