import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import {
  assertCellId,
  assertCellInput,
  assertSource,
  assertState,
  assertUserId,
  decodeEndpoints,
  encodeEndpoints,
  placementRefusal,
} from "./placement-rules.js";
import type { CellRecord, PlacementStore, PlaceUserOutcome, UserPlacement } from "./placement-store.js";
import { PLACEMENT_SCHEMA } from "./sqlite-placement-schema.js";

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
    mkdirSync(dirname(options.path), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.db.pragma("foreign_keys = ON");
    this.db.transaction(() => this.db.exec(PLACEMENT_SCHEMA)).immediate();
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

  async ping(): Promise<void> {
    this.stmt.ping.get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
