/**
 * One contract, both adapters: everything the router and cellctl rely on must
 * hold on SQLite and on DynamoDB (moto, requests serialized like DynamoDB's
 * transaction isolation). Every test gets an empty store, because onboarding
 * considers every registered cell.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { DynamoDbPlacementStore } from "../src/dynamodb-placement-store.js";
import { ensurePlacementTables } from "../src/ensure-placement-tables.js";
import type { MigrationStep } from "../src/migration-records.js";
import { onboardUser } from "../src/onboard-user.js";
import type { CellEndpoint, CellState, PlacementStore } from "../src/placement-store.js";
import { placementTableNames, USERS_BY_CELL_INDEX } from "../src/placement-tables.js";
import { SqlitePlacementStore } from "../src/sqlite-placement-store.js";

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

    it("records a cell's measured max ops/s, keeps it across putCell, clears it, and refuses nonsense", async () => {
      await addCell("cell-a", 10);
      expect((await store.getCell("cell-a"))?.maxOpsPerSecond).toBeUndefined();
      const set = await store.setCellMaxOpsPerSecond("cell-a", 1200);
      expect(set).toMatchObject({ cellId: "cell-a", maxOpsPerSecond: 1200, capacity: 10 });
      expect(await store.getCell("cell-a")).toEqual(set);
      expect((await store.listCells())[0]?.maxOpsPerSecond).toBe(1200);
      // Registry writes that do not name it (register, cordon) keep it.
      const cordoned = await store.putCell({
        cellId: "cell-a",
        state: "cordoned",
        capacity: 20,
        endpoints: endpoints(9100),
      });
      expect(cordoned).toMatchObject({ state: "cordoned", capacity: 20, maxOpsPerSecond: 1200 });
      for (const bad of [0, -5, 1.5, Number.NaN]) {
        await expect(store.setCellMaxOpsPerSecond("cell-a", bad)).rejects.toThrow(/max ops/);
      }
      expect((await store.getCell("cell-a"))?.maxOpsPerSecond).toBe(1200);
      const cleared = await store.setCellMaxOpsPerSecond("cell-a", undefined);
      expect(cleared?.maxOpsPerSecond).toBeUndefined();
      expect("maxOpsPerSecond" in ((await store.getCell("cell-a")) ?? {})).toBe(false);
      expect(await store.setCellMaxOpsPerSecond("nowhere", 10)).toBeUndefined();
      expect(await store.getCell("nowhere")).toBeUndefined();
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

  describe("cell lifecycle and users of a cell", () => {
    it("lists the users placed in a cell, ordered by user id", async () => {
      await addCell("cell-a", 10);
      await addCell("cell-b", 10);
      for (const u of ["u3", "u1", "u2"]) await store.placeUser(u, "cell-a", "policy");
      await store.placeUser("u9", "cell-b", "policy");
      // The DynamoDB index is eventually consistent; moto is immediate, AWS near-immediate.
      expect((await store.listCellUsers("cell-a")).map((p) => p.userId)).toEqual(["u1", "u2", "u3"]);
      expect((await store.listCellUsers("cell-b")).map((p) => [p.userId, p.cellId, p.epoch])).toEqual([
        ["u9", "cell-b", 1],
      ]);
      expect(await store.listCellUsers("cell-c")).toEqual([]);
    });

    it("changes a cell's state only from the allowed states, and retires only an empty cell", async () => {
      await addCell("cell-a", 10);
      await store.placeUser("u1", "cell-a", "policy");
      expect(await store.setCellState("ghost", "draining", { from: ["active"] })).toEqual({
        ok: false,
        reason: "unknown-cell",
      });
      expect(await store.setCellState("cell-a", "retired", { from: ["cordoned"] })).toEqual({
        ok: false,
        reason: "wrong-state",
      });
      const draining = await store.setCellState("cell-a", "draining", { from: ["active", "cordoned"] });
      expect(draining).toMatchObject({ ok: true, changed: true, cell: { state: "draining", users: 1 } });
      expect(await store.setCellState("cell-a", "draining", { from: ["active"] })).toMatchObject({
        ok: true,
        changed: false,
      });
      expect(await store.setCellState("cell-a", "retired", { from: ["draining"], requireEmpty: true })).toEqual({
        ok: false,
        reason: "not-empty",
      });
      expect((await store.getCell("cell-a"))?.state).toBe("draining");
      await addCell("cell-e", 10, "draining");
      expect(await store.setCellState("cell-e", "retired", { from: ["draining"], requireEmpty: true })).toMatchObject({
        ok: true,
        changed: true,
        cell: { state: "retired" },
      });
    });
  });

  describe("migrations", () => {
    const newMigration = (migrationId: string, userId = "alice") => ({
      migrationId,
      userId,
      walletId: `01JD3F6V6Y0M6X8Y9Z0A1B2C3D-cell-a`,
      sourceCellId: "cell-a",
      targetCellId: "cell-b",
      fromEpoch: 1,
      actor: "test",
    });

    beforeEach(async () => {
      await addCell("cell-a", 10);
      await addCell("cell-b", 10);
      await store.placeUser("alice", "cell-a", "policy");
    });

    it("records a migration at planned/running and holds one lock per user", async () => {
      const created = await store.createMigration(newMigration("m1"));
      expect(created).toMatchObject({
        ok: true,
        migration: { migrationId: "m1", step: "planned", state: "running", fromEpoch: 1, toEpoch: 2, revision: 1 },
      });
      expect(await store.getMigration("m1")).toEqual(created.ok && created.migration);
      expect((await store.activeMigration("alice"))?.migrationId).toBe("m1");
      expect(await store.createMigration(newMigration("m2"))).toMatchObject({
        ok: false,
        reason: "user-migrating",
        migration: { migrationId: "m1" },
      });
      expect(await store.createMigration(newMigration("m1"))).toMatchObject({ ok: false, reason: "migration-exists" });
      expect(await store.getMigration("m2")).toBeUndefined();
      expect(await store.activeMigration("nobody")).toBeUndefined();
    });

    it("refuses a migration whose source or epoch is not the user's placement", async () => {
      expect(await store.createMigration({ ...newMigration("m1"), fromEpoch: 2 })).toEqual({
        ok: false,
        reason: "placement-changed",
      });
      expect(await store.createMigration({ ...newMigration("m2"), sourceCellId: "cell-b" })).toEqual({
        ok: false,
        reason: "placement-changed",
      });
      expect(await store.createMigration({ ...newMigration("m3"), userId: "nobody" })).toEqual({
        ok: false,
        reason: "placement-changed",
      });
      expect(await store.listMigrations()).toEqual([]);
    });

    it("moves a step only from the expected step and state; a final state releases the lock", async () => {
      await store.createMigration(newMigration("m1"));
      const cloned = await store.updateMigration(
        "m1",
        { step: "planned", state: "running" },
        { step: "cloned", cursor: "c-7" },
      );
      expect(cloned).toMatchObject({ step: "cloned", cursor: "c-7", revision: 2 });
      // A second driver still believing in "planned" loses.
      expect(await store.updateMigration("m1", { step: "planned", state: "running" }, { step: "cloned" })).toBe(
        undefined,
      );
      expect(await store.updateMigration("nope", { step: "planned", state: "running" }, {})).toBeUndefined();
      await expect(
        store.updateMigration("m1", { step: "cloned", state: "running" }, { step: "flipped" }),
      ).rejects.toThrow(/flipPlacement/);
      const rolling = await store.updateMigration(
        "m1",
        { step: "cloned", state: "running" },
        { state: "rolling-back" },
      );
      expect(rolling?.state).toBe("rolling-back");
      expect((await store.activeMigration("alice"))?.migrationId).toBe("m1");
      await store.updateMigration(
        "m1",
        { step: "cloned", state: "rolling-back" },
        { state: "rolled-back", error: "operator" },
      );
      expect(await store.activeMigration("alice")).toBeUndefined();
      // The user may be migrated again; the old record stays for history, newest first.
      expect((await store.createMigration(newMigration("m2"))).ok).toBe(true);
      expect((await store.listMigrations()).map((m) => [m.migrationId, m.state])).toEqual([
        ["m2", "running"],
        ["m1", "rolled-back"],
      ]);
    });

    it("lets exactly one of many concurrent drivers win a step", async () => {
      await store.createMigration(newMigration("m1"));
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.updateMigration("m1", { step: "planned", state: "running" }, { step: "cloned", cursor: `c${i}` }),
        ),
      );
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      expect((await store.getMigration("m1"))?.revision).toBe(2);
    });

    it("flips placement, counts, relocation and step in one write, only from activated", async () => {
      await store.createMigration(newMigration("m1"));
      expect(await store.flipPlacement("m1")).toMatchObject({ ok: false, reason: "step-changed" });
      expect((await store.getUserPlacement("alice"))?.cellId).toBe("cell-a");
      let expected: { step: MigrationStep; state: "running" } = { step: "planned", state: "running" };
      for (const step of ["cloned", "frozen", "settled", "tail-copied", "activated"] as const) {
        expect(await store.updateMigration("m1", expected, { step })).toBeDefined();
        expected = { step, state: "running" };
      }
      expect(await store.getRelocation(newMigration("m1").walletId)).toBeUndefined();
      const flipped = await store.flipPlacement("m1");
      expect(flipped).toMatchObject({ ok: true, migration: { step: "flipped", state: "running" } });
      expect(await store.getUserPlacement("alice")).toMatchObject({ cellId: "cell-b", epoch: 2 });
      expect((await store.getCell("cell-a"))?.users).toBe(0);
      expect((await store.getCell("cell-b"))?.users).toBe(1);
      expect(await store.getRelocation(newMigration("m1").walletId)).toMatchObject({
        userId: "alice",
        cellId: "cell-b",
        epoch: 2,
      });
      // Idempotent: a resumed CLI flipping again changes nothing.
      expect(await store.flipPlacement("m1")).toMatchObject({ ok: true, migration: { step: "flipped" } });
      expect((await store.getCell("cell-b"))?.users).toBe(1);
      expect(await store.getRelocation("unknown-wallet")).toBeUndefined();
      const done = await store.updateMigration(
        "m1",
        { step: "flipped", state: "running" },
        { step: "moved", state: "completed", pauseMs: 42 },
      );
      expect(done).toMatchObject({ step: "moved", state: "completed", pauseMs: 42 });
      expect(await store.activeMigration("alice")).toBeUndefined();
      expect((await store.listCellUsers("cell-b")).map((p) => p.userId)).toEqual(["alice"]);
      expect(await store.listCellUsers("cell-a")).toEqual([]);
    });

    it("never flips a migration that a rollback has claimed", async () => {
      await store.createMigration(newMigration("m1"));
      let expected: { step: MigrationStep; state: "running" } = { step: "planned", state: "running" };
      for (const step of ["cloned", "frozen", "settled", "tail-copied", "activated"] as const) {
        await store.updateMigration("m1", expected, { step });
        expected = { step, state: "running" };
      }
      await store.updateMigration("m1", expected, { state: "rolling-back" });
      expect(await store.flipPlacement("m1")).toMatchObject({ ok: false, reason: "step-changed" });
      expect(await store.getUserPlacement("alice")).toMatchObject({ cellId: "cell-a", epoch: 1 });
      expect((await store.getCell("cell-a"))?.users).toBe(1);
    });

    it("never flips a user into a cell retired meanwhile", async () => {
      await store.createMigration(newMigration("m1"));
      let expected: { step: MigrationStep; state: "running" } = { step: "planned", state: "running" };
      for (const step of ["cloned", "frozen", "settled", "tail-copied", "activated"] as const) {
        await store.updateMigration("m1", expected, { step });
        expected = { step, state: "running" };
      }
      expect((await store.setCellState("cell-b", "retired", { from: ["active"], requireEmpty: true })).ok).toBe(true);
      expect(await store.flipPlacement("m1")).toMatchObject({ ok: false, reason: "target-retired" });
      expect(await store.getUserPlacement("alice")).toMatchObject({ cellId: "cell-a", epoch: 1 });
      expect((await store.getCell("cell-b"))?.users).toBe(0);
      expect((await store.getMigration("m1"))?.step).toBe("activated");
    });

    it("never flips a user into a cell filled to its capacity meanwhile", async () => {
      await store.createMigration(newMigration("m1"));
      let expected: { step: MigrationStep; state: "running" } = { step: "planned", state: "running" };
      for (const step of ["cloned", "frozen", "settled", "tail-copied", "activated"] as const) {
        await store.updateMigration("m1", expected, { step });
        expected = { step, state: "running" };
      }
      // Onboarding fills cell-b (capacity 10) while the move is in flight.
      for (let i = 0; i < 10; i++) expect((await store.placeUser(`late-${i}`, "cell-b", "policy")).ok).toBe(true);
      expect(await store.flipPlacement("m1")).toMatchObject({ ok: false, reason: "target-full" });
      expect(await store.getUserPlacement("alice")).toMatchObject({ cellId: "cell-a", epoch: 1 });
      expect((await store.getCell("cell-a"))?.users).toBe(1);
      expect((await store.getCell("cell-b"))?.users).toBe(10);
      expect(await store.getRelocation(newMigration("m1").walletId)).toBeUndefined();
      expect((await store.getMigration("m1"))?.step).toBe("activated");
    });

    it("lets one of two concurrent flips move the user, once", async () => {
      await store.createMigration(newMigration("m1"));
      let expected: { step: MigrationStep; state: "running" } = { step: "planned", state: "running" };
      for (const step of ["cloned", "frozen", "settled", "tail-copied", "activated"] as const) {
        await store.updateMigration("m1", expected, { step });
        expected = { step, state: "running" };
      }
      const outcomes = await Promise.all([store.flipPlacement("m1"), store.flipPlacement("m1")]);
      expect(outcomes.every((o) => o.ok)).toBe(true);
      expect((await store.getCell("cell-a"))?.users).toBe(0);
      expect((await store.getCell("cell-b"))?.users).toBe(1);
      expect((await store.getMigration("m1"))?.revision).toBe(7);
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

describe("ensurePlacementTables on tables made by an earlier release", () => {
  it("adds the users-by-cell index to an existing placements table and keeps its items", async () => {
    const tablePrefix = `${FILE_PREFIX}-old`;
    const placements = placementTableNames(tablePrefix).placements;
    await dynamo.send(
      new CreateTableCommand({
        TableName: placements,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [{ AttributeName: "userId", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "userId", KeyType: "HASH" }],
      }),
    );
    // A user placed by the earlier release.
    await dynamo.send(
      new PutItemCommand({
        TableName: placements,
        Item: {
          userId: { S: "u0" },
          cellId: { S: "cell-a" },
          epoch: { N: "1" },
          placedAt: { N: "1" },
          source: { S: "policy" },
        },
      }),
    );
    await ensurePlacementTables(dynamo, tablePrefix);
    const table = (await dynamo.send(new DescribeTableCommand({ TableName: placements }))).Table;
    expect(table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual([USERS_BY_CELL_INDEX]);
    const store = new DynamoDbPlacementStore({ client: dynamo, tablePrefix });
    await store.putCell({ cellId: "cell-a", state: "active", capacity: 5, endpoints: endpoints(9100) });
    await store.placeUser("u1", "cell-a", "policy");
    expect((await store.listCellUsers("cell-a")).map((p) => p.userId)).toEqual(["u0", "u1"]);
    // Idempotent.
    await ensurePlacementTables(dynamo, tablePrefix);
    await store.close();
  });
});
