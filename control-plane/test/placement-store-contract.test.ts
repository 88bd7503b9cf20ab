/**
 * One contract, both adapters: everything the router and cellctl rely on must
 * hold on SQLite and on DynamoDB (moto, requests serialized like DynamoDB's
 * transaction isolation). Every test gets an empty store, because onboarding
 * considers every registered cell.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { DynamoDbPlacementStore } from "../src/placement/dynamodb-placement-store.js";
import { ensurePlacementTables } from "../src/placement/ensure-placement-tables.js";
import { onboardUser } from "../src/placement/onboard-user.js";
import type { CellEndpoint, CellState, PlacementStore } from "../src/placement/placement-store.js";
import { SqlitePlacementStore } from "../src/placement/sqlite-placement-store.js";

const motoEndpoint = inject("motoEndpoint");
// Tables on the shared moto server are per prefix: this file's, plus a counter per store.
const FILE_PREFIX = `pc${process.pid.toString(36)}${Date.now().toString(36)}`;
let storeCounter = 0;
let dynamo: DynamoDBClient;

beforeAll(() => {
  dynamo = new DynamoDBClient({
    endpoint: motoEndpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
});

afterAll(() => {
  dynamo?.destroy();
});

type Adapter = "sqlite" | "dynamodb";

async function openStore(adapter: Adapter): Promise<PlacementStore> {
  storeCounter += 1;
  if (adapter === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "cellwallet-placement-"));
    return new SqlitePlacementStore({ path: join(dir, "control-plane.sqlite") });
  }
  const tablePrefix = `${FILE_PREFIX}-${storeCounter}`;
  await ensurePlacementTables(dynamo, tablePrefix);
  return new DynamoDbPlacementStore({ client: dynamo, tablePrefix });
}

const endpoints = (port: number): CellEndpoint[] => [
  { az: "az1", url: `http://127.0.0.1:${port}`, weight: 1 },
  { az: "az2", url: `http://127.0.0.1:${port + 1}`, weight: 0.5 },
];

describe.each<Adapter>(["sqlite", "dynamodb"])("PlacementStore contract on %s", (adapter) => {
  let store: PlacementStore;

  beforeEach(async () => {
    store = await openStore(adapter);
  });

  afterEach(async () => {
    await store.close();
  });

  const addCell = (cellId: string, capacity: number, state: CellState = "active") =>
    store.putCell({ cellId, state, capacity, endpoints: endpoints(9100) });

  describe("registry", () => {
    it("stores a new cell with zero users and returns it from get and list", async () => {
      const before = Date.now();
      const put = await store.putCell({ cellId: "cell-a", state: "active", capacity: 10, endpoints: endpoints(9101) });
      expect(put).toMatchObject({ cellId: "cell-a", state: "active", capacity: 10, users: 0 });
      expect(put.endpoints).toEqual(endpoints(9101));
      expect(put.updatedAt).toBeGreaterThanOrEqual(before);
      expect(put.updatedAt).toBeLessThanOrEqual(Date.now());
      expect(await store.getCell("cell-a")).toEqual(put);
      await addCell("cell-b", 5, "cordoned");
      const listed = await store.listCells();
      expect(listed.map((c) => c.cellId)).toEqual(["cell-a", "cell-b"]);
      expect(listed[0]).toEqual(put);
      expect(listed[1]).toMatchObject({ cellId: "cell-b", state: "cordoned", capacity: 5, users: 0 });
    });

    it("replaces state, capacity and endpoints but keeps the users count", async () => {
      await addCell("cell-a", 10);
      await store.placeUser("u1", "cell-a", "policy");
      await store.placeUser("u2", "cell-a", "policy");
      const evacuated = [{ az: "az1", url: "http://10.0.0.1:80", weight: 0 }];
      const replaced = await store.putCell({ cellId: "cell-a", state: "draining", capacity: 1, endpoints: evacuated });
      expect(replaced).toMatchObject({ state: "draining", capacity: 1, users: 2, endpoints: evacuated });
      expect(await store.getCell("cell-a")).toEqual(replaced);
    });

    it("answers undefined for a cell or user it does not know", async () => {
      expect(await store.getCell("nowhere")).toBeUndefined();
      expect(await store.getUserPlacement("nobody")).toBeUndefined();
      expect(await store.getOverride("nobody")).toBeUndefined();
      expect(await store.listCells()).toEqual([]);
    });

    it("refuses malformed registry input and stores nothing", async () => {
      const bad = [
        { cellId: "Bad Id", state: "active", capacity: 1, endpoints: [] },
        { cellId: "cell-x", state: "open", capacity: 1, endpoints: [] },
        { cellId: "cell-x", state: "active", capacity: -1, endpoints: [] },
        { cellId: "cell-x", state: "active", capacity: 1.5, endpoints: [] },
        { cellId: "cell-x", state: "active", capacity: 1, endpoints: [{ az: "az1", url: "not a url", weight: 1 }] },
        { cellId: "cell-x", state: "active", capacity: 1, endpoints: [{ az: "az1", url: "http://h", weight: -1 }] },
      ];
      for (const cell of bad) {
        await expect(store.putCell(cell as Parameters<PlacementStore["putCell"]>[0])).rejects.toThrow();
      }
      expect(await store.listCells()).toEqual([]);
    });

    it("answers ping while open", async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });

  describe("placeUser", () => {
    it("places an unplaced user with epoch 1 and counts it in the cell", async () => {
      await addCell("cell-a", 10);
      const before = Date.now();
      const outcome = await store.placeUser("alice", "cell-a", "policy");
      expect(outcome).toMatchObject({
        ok: true,
        created: true,
        placement: { userId: "alice", cellId: "cell-a", epoch: 1, source: "policy" },
      });
      if (!outcome.ok) throw new Error("unreachable");
      expect(outcome.placement.placedAt).toBeGreaterThanOrEqual(before);
      expect(await store.getUserPlacement("alice")).toEqual(outcome.placement);
      expect((await store.getCell("cell-a"))?.users).toBe(1);
    });

    it("lets the first writer win: a second placement returns the first, created=false, and counts nothing", async () => {
      await addCell("cell-a", 10);
      await addCell("cell-b", 10);
      const first = await store.placeUser("alice", "cell-a", "policy");
      const second = await store.placeUser("alice", "cell-b", "override");
      expect(first.ok && second.ok).toBe(true);
      if (!first.ok || !second.ok) throw new Error("unreachable");
      expect(second).toEqual({ ok: true, created: false, placement: first.placement });
      expect((await store.getCell("cell-a"))?.users).toBe(1);
      expect((await store.getCell("cell-b"))?.users).toBe(0);
    });

    it("returns the existing placement even when that cell has since filled up or closed", async () => {
      await addCell("cell-a", 1);
      await store.placeUser("alice", "cell-a", "policy");
      await addCell("cell-a", 1, "retired");
      expect(await store.placeUser("alice", "cell-a", "policy")).toMatchObject({ ok: true, created: false });
    });

    it("never exceeds capacity", async () => {
      await addCell("cell-a", 2);
      expect((await store.placeUser("u1", "cell-a", "policy")).ok).toBe(true);
      expect((await store.placeUser("u2", "cell-a", "policy")).ok).toBe(true);
      expect(await store.placeUser("u3", "cell-a", "policy")).toEqual({ ok: false, reason: "cell-full" });
      expect(await store.getUserPlacement("u3")).toBeUndefined();
      expect((await store.getCell("cell-a"))?.users).toBe(2);
    });

    it("refuses a cell whose capacity was lowered below its users", async () => {
      await addCell("cell-a", 3);
      await store.placeUser("u1", "cell-a", "policy");
      await store.placeUser("u2", "cell-a", "policy");
      await addCell("cell-a", 1);
      expect(await store.placeUser("u3", "cell-a", "override")).toEqual({ ok: false, reason: "cell-full" });
      expect((await store.getCell("cell-a"))?.users).toBe(2);
    });

    it.each<CellState>(["cordoned", "draining", "retired"])(
      "refuses policy placements into a %s cell",
      async (state) => {
        await addCell("cell-a", 10, state);
        expect(await store.placeUser("alice", "cell-a", "policy")).toEqual({ ok: false, reason: "cell-not-active" });
        expect(await store.getUserPlacement("alice")).toBeUndefined();
        expect((await store.getCell("cell-a"))?.users).toBe(0);
      },
    );

    it("lets an override fill a cordoned cell, but not a draining or retired one", async () => {
      await addCell("cordoned", 10, "cordoned");
      await addCell("draining", 10, "draining");
      await addCell("retired", 10, "retired");
      expect(await store.placeUser("u1", "cordoned", "override")).toMatchObject({
        ok: true,
        created: true,
        placement: { cellId: "cordoned", source: "override" },
      });
      expect(await store.placeUser("u2", "draining", "override")).toEqual({ ok: false, reason: "cell-not-active" });
      expect(await store.placeUser("u3", "retired", "override")).toEqual({ ok: false, reason: "cell-not-active" });
      expect((await store.getCell("cordoned"))?.users).toBe(1);
    });

    it("never exceeds capacity for an override either", async () => {
      await addCell("cell-a", 1, "cordoned");
      expect((await store.placeUser("u1", "cell-a", "override")).ok).toBe(true);
      expect(await store.placeUser("u2", "cell-a", "override")).toEqual({ ok: false, reason: "cell-full" });
      expect((await store.getCell("cell-a"))?.users).toBe(1);
    });

    it("answers unknown-cell for an unregistered cell and creates nothing", async () => {
      expect(await store.placeUser("alice", "ghost", "policy")).toEqual({ ok: false, reason: "unknown-cell" });
      expect(await store.getUserPlacement("alice")).toBeUndefined();
      expect(await store.getCell("ghost")).toBeUndefined();
    });

    it("refuses a malformed user id", async () => {
      await addCell("cell-a", 10);
      await expect(store.placeUser("bad user/id", "cell-a", "policy")).rejects.toThrow(/userId/);
      expect((await store.getCell("cell-a"))?.users).toBe(0);
    });
  });

  describe("overrides", () => {
    it("sets, replaces, reads and removes a pinned cell", async () => {
      await store.setOverride("alice", "cell-a");
      expect(await store.getOverride("alice")).toBe("cell-a");
      await store.setOverride("alice", "cell-b");
      expect(await store.getOverride("alice")).toBe("cell-b");
      expect(await store.getOverride("bob")).toBeUndefined();
      await store.removeOverride("alice");
      expect(await store.getOverride("alice")).toBeUndefined();
      // Removing what is not there is not an error (cellctl may retry).
      await expect(store.removeOverride("alice")).resolves.toBeUndefined();
    });
  });

  describe("onboardUser", () => {
    it("places by policy in the least-filled active cell", async () => {
      await addCell("cell-a", 10);
      await addCell("cell-b", 100);
      await addCell("cell-c", 100, "cordoned");
      await store.placeUser("u1", "cell-a", "policy");
      const result = await onboardUser(store, "alice");
      expect(result).toMatchObject({ ok: true, placement: { userId: "alice", cellId: "cell-b", source: "policy" } });
      expect((await store.getCell("cell-b"))?.users).toBe(1);
    });

    it("uses an override, also into a cordoned cell", async () => {
      await addCell("cell-a", 10);
      await addCell("pinned", 10, "cordoned");
      await store.setOverride("alice", "pinned");
      expect(await onboardUser(store, "alice")).toMatchObject({
        ok: true,
        placement: { cellId: "pinned", source: "override" },
      });
    });

    it("keeps an existing placement over a later override", async () => {
      await addCell("cell-a", 10);
      await addCell("cell-b", 10);
      const first = await onboardUser(store, "alice");
      if (!first.ok) throw new Error("alice should be placed");
      const other = first.placement.cellId === "cell-a" ? "cell-b" : "cell-a";
      await store.setOverride("alice", other);
      expect(await onboardUser(store, "alice")).toEqual(first);
      expect((await store.getCell(other))?.users).toBe(0);
    });

    it("does not fall back to the policy when the override's cell cannot take the user", async () => {
      await addCell("cell-a", 10);
      await addCell("quarantine", 10, "draining");
      await store.setOverride("alice", "quarantine");
      expect(await onboardUser(store, "alice")).toEqual({ ok: false, reason: "no-capacity" });
      expect(await store.getUserPlacement("alice")).toBeUndefined();
      expect((await store.getCell("cell-a"))?.users).toBe(0);
    });

    it("answers no-capacity when every active cell is full", async () => {
      await addCell("cell-a", 1);
      await addCell("cell-b", 10, "cordoned");
      expect((await onboardUser(store, "u1")).ok).toBe(true);
      expect(await onboardUser(store, "u2")).toEqual({ ok: false, reason: "no-capacity" });
    });

    it("places one user exactly once under 30 concurrent onboardings", async () => {
      await addCell("cell-a", 100);
      await addCell("cell-b", 100);
      const results = await Promise.all(Array.from({ length: 30 }, () => onboardUser(store, "same-user")));
      const placements = results.map((r) => (r.ok ? r.placement : undefined));
      expect(placements.every((p) => p !== undefined)).toBe(true);
      // Every caller sees the one winning placement, byte for byte.
      const stored = await store.getUserPlacement("same-user");
      for (const p of placements) expect(p).toEqual(stored);
      const cells = await store.listCells();
      expect(cells.reduce((sum, c) => sum + c.users, 0)).toBe(1);
      expect(cells.find((c) => c.cellId === stored?.cellId)?.users).toBe(1);
    });

    it("fills 2 cells of 25 with exactly 50 of 60 concurrent new users", async () => {
      await addCell("cell-a", 25);
      await addCell("cell-b", 25);
      await addCell("cell-c", 25, "cordoned");
      const userIds = Array.from({ length: 60 }, (_, i) => `user-${i}`);
      const results = await Promise.all(userIds.map((userId) => onboardUser(store, userId)));
      const placed = results.flatMap((r) => (r.ok ? [r.placement] : []));
      expect(placed).toHaveLength(50);
      expect(results.filter((r) => !r.ok && r.reason === "no-capacity")).toHaveLength(10);
      expect(new Set(placed.map((p) => p.userId)).size).toBe(50);
      const cells = new Map((await store.listCells()).map((c) => [c.cellId, c]));
      expect(cells.get("cell-a")?.users).toBe(25);
      expect(cells.get("cell-b")?.users).toBe(25);
      expect(cells.get("cell-c")?.users).toBe(0);
      // The stored placements agree with the counters and with what each caller was told.
      const perCell = new Map<string, number>();
      for (const [i, userId] of userIds.entries()) {
        const stored = await store.getUserPlacement(userId);
        const result = results[i];
        expect(stored).toEqual(result?.ok ? result.placement : undefined);
        if (stored) perCell.set(stored.cellId, (perCell.get(stored.cellId) ?? 0) + 1);
      }
      expect(Object.fromEntries(perCell)).toEqual({ "cell-a": 25, "cell-b": 25 });
    });
  });
});
