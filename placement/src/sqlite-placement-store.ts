import type Database from "better-sqlite3";
import {
  applyPatch,
  assertMigrationId,
  type CellStateChange,
  type CellStateCondition,
  type CreateMigrationOutcome,
  decodeMigration,
  type FlipOutcome,
  type MigrationPatch,
  type MigrationRecord,
  type MigrationState,
  type MigrationStep,
  type NewMigration,
  newMigrationRecord,
  type WalletRelocation,
} from "./migration-records.js";
import {
  assertCellId,
  assertCellInput,
  assertMaxOpsPerSecond,
  assertSource,
  assertState,
  assertUserId,
  decodeEndpoints,
  encodeEndpoints,
  placementRefusal,
} from "./placement-rules.js";
import type { CellRecord, CellState, PlacementStore, PlaceUserOutcome, UserPlacement } from "./placement-store.js";
import { openSqliteFile } from "./sqlite-file.js";
import { addCapacityColumn, MIGRATION_SCHEMA, PLACEMENT_SCHEMA } from "./sqlite-placement-schema.js";

export interface SqlitePlacementStoreOptions {
  /** Database file; several processes (router instances, cellctl) may share it. */
  path: string;
  /** How long a writer waits for another process's write lock, in ms. */
  busyTimeoutMs?: number;
}

type Row = Record<string, unknown>;

function cellFromRow(row: Row): CellRecord {
  const cellId = String(row.cell_id);
  return {
    cellId,
    state: assertState(String(row.state), cellId),
    capacity: Number(row.capacity),
    users: Number(row.users),
    endpoints: decodeEndpoints(String(row.endpoints), cellId),
    updatedAt: Number(row.updated_at),
    ...(row.max_ops_per_second == null ? {} : { maxOpsPerSecond: Number(row.max_ops_per_second) }),
  };
}

function placementFromRow(row: Row): UserPlacement {
  const source = String(row.source);
  assertSource(source);
  return {
    userId: String(row.user_id),
    cellId: String(row.cell_id),
    epoch: Number(row.epoch),
    placedAt: Number(row.placed_at),
    source,
  };
}

/**
 * PlacementStore on SQLite (better-sqlite3): WAL with synchronous=FULL, so a
 * placement is on disk before anyone is told about it. Every write runs in a
 * BEGIN IMMEDIATE transaction, which takes the file's write lock up front: two
 * processes can never both read "room for one more" and both insert.
 */
export class SqlitePlacementStore implements PlacementStore {
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly placeTx;

  constructor(options: SqlitePlacementStoreOptions) {
    this.db = openSqliteFile(options.path, options.busyTimeoutMs);
    this.db.pragma("foreign_keys = ON");
    this.db
      .transaction(() => {
        this.db.exec(PLACEMENT_SCHEMA);
        this.db.exec(MIGRATION_SCHEMA);
        addCapacityColumn(this.db);
      })
      .immediate();
    this.stmt = {
      cells: this.db.prepare("SELECT * FROM cells ORDER BY cell_id"),
      cell: this.db.prepare("SELECT * FROM cells WHERE cell_id = ?"),
      upsertCell: this.db.prepare(
        `INSERT INTO cells (cell_id, state, capacity, users, endpoints, updated_at)
         VALUES (@cell_id, @state, @capacity, 0, @endpoints, @updated_at)
         ON CONFLICT (cell_id) DO UPDATE SET state = excluded.state, capacity = excluded.capacity,
           endpoints = excluded.endpoints, updated_at = excluded.updated_at
         RETURNING *`,
      ),
      placement: this.db.prepare("SELECT * FROM user_placements WHERE user_id = ?"),
      insertPlacement: this.db.prepare(
        `INSERT INTO user_placements (user_id, cell_id, epoch, placed_at, source)
         VALUES (@userId, @cellId, @epoch, @placedAt, @source)`,
      ),
      // The capacity guard repeats the check made above: defence in depth, never expected to miss.
      countUser: this.db.prepare("UPDATE cells SET users = users + 1 WHERE cell_id = ? AND users < capacity"),
      override: this.db.prepare("SELECT cell_id FROM overrides WHERE user_id = ?"),
      setOverride: this.db.prepare(
        `INSERT INTO overrides (user_id, cell_id, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET cell_id = excluded.cell_id, updated_at = excluded.updated_at`,
      ),
      removeOverride: this.db.prepare("DELETE FROM overrides WHERE user_id = ?"),
      ping: this.db.prepare("SELECT 1"),
      cellUsers: this.db.prepare("SELECT * FROM user_placements WHERE cell_id = ? ORDER BY user_id"),
      setState: this.db.prepare("UPDATE cells SET state = ?, updated_at = ? WHERE cell_id = ?"),
      setMaxOps: this.db.prepare(
        "UPDATE cells SET max_ops_per_second = ?, updated_at = ? WHERE cell_id = ? RETURNING *",
      ),
      migration: this.db.prepare("SELECT body FROM migrations WHERE migration_id = ?"),
      activeMigration: this.db.prepare(
        "SELECT body FROM migrations WHERE user_id = ? AND state IN ('running', 'rolling-back')",
      ),
      migrations: this.db.prepare("SELECT body FROM migrations ORDER BY created_at DESC, migration_id DESC"),
      insertMigration: this.db.prepare(
        "INSERT INTO migrations (migration_id, user_id, state, created_at, body) VALUES (?, ?, ?, ?, ?)",
      ),
      writeMigration: this.db.prepare("UPDATE migrations SET state = ?, body = ? WHERE migration_id = ?"),
      movePlacement: this.db.prepare(
        "UPDATE user_placements SET cell_id = ?, epoch = ? WHERE user_id = ? AND cell_id = ? AND epoch = ?",
      ),
      addUsers: this.db.prepare("UPDATE cells SET users = users + ? WHERE cell_id = ? AND users + ? >= 0"),
      putRelocation: this.db.prepare(
        `INSERT INTO relocations (wallet_id, user_id, cell_id, epoch, moved_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (wallet_id) DO UPDATE SET user_id = excluded.user_id, cell_id = excluded.cell_id,
           epoch = excluded.epoch, moved_at = excluded.moved_at`,
      ),
      relocation: this.db.prepare("SELECT * FROM relocations WHERE wallet_id = ?"),
    };
    this.placeTx = this.db.transaction(this.placeLocked.bind(this));
  }

  async listCells(): Promise<CellRecord[]> {
    return (this.stmt.cells.all() as Row[]).map(cellFromRow);
  }

  async getCell(cellId: string): Promise<CellRecord | undefined> {
    const row = this.stmt.cell.get(cellId) as Row | undefined;
    return row ? cellFromRow(row) : undefined;
  }

  async putCell(cell: Omit<CellRecord, "users" | "updatedAt">): Promise<CellRecord> {
    assertCellInput(cell);
    // One upsert statement is atomic on its own: a concurrent placement's users + 1 is never lost.
    const row = this.stmt.upsertCell.get({
      cell_id: cell.cellId,
      state: cell.state,
      capacity: cell.capacity,
      endpoints: encodeEndpoints(cell.endpoints),
      updated_at: Date.now(),
    }) as Row;
    return cellFromRow(row);
  }

  async setCellMaxOpsPerSecond(cellId: string, maxOpsPerSecond: number | undefined): Promise<CellRecord | undefined> {
    assertCellId(cellId);
    assertMaxOpsPerSecond(maxOpsPerSecond, cellId);
    const row = this.stmt.setMaxOps.get(maxOpsPerSecond ?? null, Date.now(), cellId) as Row | undefined;
    return row ? cellFromRow(row) : undefined;
  }

  async getUserPlacement(userId: string): Promise<UserPlacement | undefined> {
    const row = this.stmt.placement.get(userId) as Row | undefined;
    return row ? placementFromRow(row) : undefined;
  }

  async placeUser(userId: string, cellId: string, source: UserPlacement["source"]): Promise<PlaceUserOutcome> {
    assertUserId(userId);
    assertCellId(cellId);
    assertSource(source);
    return this.placeTx.immediate(userId, cellId, source);
  }

  /** Runs under the write lock: every read here is still true when the transaction commits. */
  private placeLocked(userId: string, cellId: string, source: UserPlacement["source"]): PlaceUserOutcome {
    const existing = this.stmt.placement.get(userId) as Row | undefined;
    if (existing) return { ok: true, placement: placementFromRow(existing), created: false };
    const cellRow = this.stmt.cell.get(cellId) as Row | undefined;
    const refusal = placementRefusal(cellRow && cellFromRow(cellRow), source);
    if (refusal !== undefined) return { ok: false, reason: refusal };
    const placement: UserPlacement = { userId, cellId, epoch: 1, placedAt: Date.now(), source };
    this.stmt.insertPlacement.run(placement);
    // Throwing rolls the whole transaction back, placement included.
    if (this.stmt.countUser.run(cellId).changes !== 1) throw new Error(`cell ${cellId} changed under the write lock`);
    return { ok: true, placement, created: true };
  }

  async getOverride(userId: string): Promise<string | undefined> {
    const row = this.stmt.override.get(userId) as Row | undefined;
    return row ? String(row.cell_id) : undefined;
  }

  async setOverride(userId: string, cellId: string): Promise<void> {
    assertUserId(userId);
    assertCellId(cellId);
    this.stmt.setOverride.run(userId, cellId, Date.now());
  }

  async removeOverride(userId: string): Promise<void> {
    this.stmt.removeOverride.run(userId);
  }

  async listCellUsers(cellId: string): Promise<UserPlacement[]> {
    return (this.stmt.cellUsers.all(cellId) as Row[]).map(placementFromRow);
  }

  async setCellState(cellId: string, to: CellState, condition: CellStateCondition): Promise<CellStateChange> {
    return this.db
      .transaction((): CellStateChange => {
        const row = this.stmt.cell.get(cellId) as Row | undefined;
        if (!row) return { ok: false, reason: "unknown-cell" };
        const cell = cellFromRow(row);
        if (cell.state === to && !condition.requireEmpty) return { ok: true, cell, changed: false };
        if (cell.state !== to && !condition.from.includes(cell.state)) return { ok: false, reason: "wrong-state" };
        if (condition.requireEmpty && cell.users !== 0) return { ok: false, reason: "not-empty" };
        if (cell.state === to) return { ok: true, cell, changed: false };
        this.stmt.setState.run(to, Date.now(), cellId);
        return { ok: true, cell: cellFromRow(this.stmt.cell.get(cellId) as Row), changed: true };
      })
      .immediate();
  }

  async createMigration(input: NewMigration): Promise<CreateMigrationOutcome> {
    assertMigrationId(input.migrationId);
    assertUserId(input.userId);
    assertCellId(input.sourceCellId);
    assertCellId(input.targetCellId);
    return this.db
      .transaction((): CreateMigrationOutcome => {
        const existing = this.readMigration(input.migrationId);
        if (existing) return { ok: false, reason: "migration-exists", migration: existing };
        const active = this.stmt.activeMigration.get(input.userId) as { body: string } | undefined;
        if (active) return { ok: false, reason: "user-migrating", migration: decodeMigration(active.body) };
        const placement = this.stmt.placement.get(input.userId) as Row | undefined;
        if (!placement || placement.cell_id !== input.sourceCellId || Number(placement.epoch) !== input.fromEpoch) {
          return { ok: false, reason: "placement-changed" };
        }
        const record = newMigrationRecord(input, Date.now());
        this.stmt.insertMigration.run(
          record.migrationId,
          record.userId,
          record.state,
          record.createdAt,
          JSON.stringify(record),
        );
        return { ok: true, migration: record };
      })
      .immediate();
  }

  private readMigration(migrationId: string): MigrationRecord | undefined {
    const row = this.stmt.migration.get(migrationId) as { body: string } | undefined;
    return row ? decodeMigration(row.body) : undefined;
  }

  async getMigration(migrationId: string): Promise<MigrationRecord | undefined> {
    return this.readMigration(migrationId);
  }

  async activeMigration(userId: string): Promise<MigrationRecord | undefined> {
    const row = this.stmt.activeMigration.get(userId) as { body: string } | undefined;
    return row ? decodeMigration(row.body) : undefined;
  }

  async listMigrations(): Promise<MigrationRecord[]> {
    return (this.stmt.migrations.all() as { body: string }[]).map((r) => decodeMigration(r.body));
  }

  async updateMigration(
    migrationId: string,
    expected: { step: MigrationStep; state: MigrationState },
    patch: MigrationPatch,
  ): Promise<MigrationRecord | undefined> {
    return this.db
      .transaction((): MigrationRecord | undefined => {
        const current = this.readMigration(migrationId);
        if (!current || current.step !== expected.step || current.state !== expected.state) return undefined;
        const next = applyPatch(current, patch, Date.now());
        // The flip is flipPlacement's alone: it must move the placement in the same write.
        if (current.step !== "flipped" && next.step === "flipped") throw new Error("use flipPlacement to flip");
        this.stmt.writeMigration.run(next.state, JSON.stringify(next), migrationId);
        return next;
      })
      .immediate();
  }

  async flipPlacement(migrationId: string): Promise<FlipOutcome> {
    return this.db
      .transaction((): FlipOutcome => {
        const m = this.readMigration(migrationId);
        if (!m) return { ok: false, reason: "step-changed" };
        const flippedAlready = m.step === "flipped" || m.step === "moved";
        if (flippedAlready) return { ok: true, migration: m };
        if (m.step !== "activated" || m.state !== "running") return { ok: false, reason: "step-changed", migration: m };
        const target = this.stmt.cell.get(m.targetCellId) as Row | undefined;
        if (!target || target.state === "retired") return { ok: false, reason: "target-retired", migration: m };
        // Capacity binds moves as it binds placements (the plan checked it; onboarding may have filled it since).
        if (!(Number(target.users) < Number(target.capacity)))
          return { ok: false, reason: "target-full", migration: m };
        const moved = this.stmt.movePlacement.run(m.targetCellId, m.toEpoch, m.userId, m.sourceCellId, m.fromEpoch);
        if (moved.changes !== 1) return { ok: false, reason: "placement-changed", migration: m };
        // Throwing rolls everything back: counts never drift from the placements.
        if (this.stmt.addUsers.run(-1, m.sourceCellId, -1).changes !== 1) throw new Error("source count");
        if (this.stmt.addUsers.run(1, m.targetCellId, 1).changes !== 1) throw new Error("target count");
        const now = Date.now();
        if (m.walletId !== null) this.stmt.putRelocation.run(m.walletId, m.userId, m.targetCellId, m.toEpoch, now);
        const next = applyPatch(m, { step: "flipped" }, now);
        this.stmt.writeMigration.run(next.state, JSON.stringify(next), migrationId);
        return { ok: true, migration: next };
      })
      .immediate();
  }

  async getRelocation(walletId: string): Promise<WalletRelocation | undefined> {
    const row = this.stmt.relocation.get(walletId) as Row | undefined;
    if (!row) return undefined;
    return {
      walletId: String(row.wallet_id),
      userId: String(row.user_id),
      cellId: String(row.cell_id),
      epoch: Number(row.epoch),
      movedAt: Number(row.moved_at),
    };
  }

  async ping(): Promise<void> {
    this.stmt.ping.get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
