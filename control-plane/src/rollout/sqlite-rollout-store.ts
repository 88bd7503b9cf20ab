import type Database from "better-sqlite3";
import { openSqliteFile } from "../sqlite-file.js";
import { isTerminal, type Rollout } from "./rollout-state.js";
import type { CreateOutcome, RolloutStore, SaveOutcome } from "./rollout-store.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rollouts (
  rollout_id TEXT PRIMARY KEY,
  revision   INTEGER NOT NULL,
  -- 1 while the rollout is not terminal, NULL after: the unique index allows one active rollout.
  active     INTEGER,
  created_at TEXT NOT NULL,
  doc        TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS rollouts_one_active ON rollouts(active);
`;

/**
 * RolloutStore on SQLite (better-sqlite3), shared by the cellctl processes of
 * one machine: writes are compare-and-set on the revision, and a unique index
 * on the active flag lets only one rollout be active.
 */
export class SqliteRolloutStore implements RolloutStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = openSqliteFile(path);
    this.db.exec(SCHEMA);
  }

  async create(rollout: Rollout): Promise<CreateOutcome> {
    const stored = { ...rollout, revision: 1 };
    const insert = this.db.transaction((): CreateOutcome => {
      const active = this.db.prepare("SELECT rollout_id FROM rollouts WHERE active = 1").get() as
        | { rollout_id: string }
        | undefined;
      if (active) return { ok: false, activeRolloutId: active.rollout_id };
      this.db
        .prepare("INSERT INTO rollouts (rollout_id, revision, active, created_at, doc) VALUES (?, 1, ?, ?, ?)")
        .run(stored.rolloutId, isTerminal(stored) ? null : 1, stored.createdAt, JSON.stringify(stored));
      return { ok: true, rollout: stored };
    });
    return insert.immediate();
  }

  async save(rollout: Rollout): Promise<SaveOutcome> {
    const stored = { ...rollout, revision: rollout.revision + 1 };
    const result = this.db
      .prepare("UPDATE rollouts SET revision = ?, active = ?, doc = ? WHERE rollout_id = ? AND revision = ?")
      .run(stored.revision, isTerminal(stored) ? null : 1, JSON.stringify(stored), stored.rolloutId, rollout.revision);
    return result.changes === 1 ? { ok: true, rollout: stored } : { ok: false, conflict: true };
  }

  async get(rolloutId: string): Promise<Rollout | undefined> {
    const row = this.db.prepare("SELECT doc FROM rollouts WHERE rollout_id = ?").get(rolloutId) as
      | { doc: string }
      | undefined;
    return row ? (JSON.parse(row.doc) as Rollout) : undefined;
  }

  async active(): Promise<Rollout | undefined> {
    const row = this.db.prepare("SELECT doc FROM rollouts WHERE active = 1").get() as { doc: string } | undefined;
    return row ? (JSON.parse(row.doc) as Rollout) : undefined;
  }

  async list(limit: number): Promise<Rollout[]> {
    const rows = this.db
      .prepare("SELECT doc FROM rollouts ORDER BY created_at DESC, rollout_id DESC LIMIT ?")
      .all(limit) as Array<{ doc: string }>;
    return rows.map((r) => JSON.parse(r.doc) as Rollout);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
