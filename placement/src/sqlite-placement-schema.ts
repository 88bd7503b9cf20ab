/**
 * The control plane's embedded schema. `users` is maintained only by placeUser,
 * in the same transaction as the placement it counts; it may exceed `capacity`
 * only when an operator lowers the capacity of a populated cell.
 */
export const PLACEMENT_SCHEMA = `
CREATE TABLE IF NOT EXISTS cells (
  cell_id    TEXT PRIMARY KEY,
  state      TEXT NOT NULL CHECK (state IN ('active', 'cordoned', 'draining', 'retired')),
  capacity   INTEGER NOT NULL CHECK (capacity >= 0),
  users      INTEGER NOT NULL CHECK (users >= 0),
  endpoints  TEXT NOT NULL,                    -- JSON array of {az, url, weight}
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS user_placements (
  user_id   TEXT PRIMARY KEY,                  -- one placement per user: the first writer wins
  cell_id   TEXT NOT NULL REFERENCES cells (cell_id),
  epoch     INTEGER NOT NULL CHECK (epoch >= 1),
  placed_at INTEGER NOT NULL,
  source    TEXT NOT NULL CHECK (source IN ('policy', 'override'))
) STRICT;
-- Draining and audits list a cell's users.
CREATE INDEX IF NOT EXISTS user_placements_by_cell ON user_placements (cell_id);

CREATE TABLE IF NOT EXISTS overrides (
  user_id    TEXT PRIMARY KEY,
  cell_id    TEXT NOT NULL,                    -- not a foreign key: an override may name a cell before it is registered
  updated_at INTEGER NOT NULL
) STRICT;
`;

/**
 * Migrations and relocations (added later; CREATE IF NOT EXISTS upgrades an existing file). A user has at
 * most one migration holding its lock: the partial unique index makes a second one fail to insert.
 */
export const MIGRATION_SCHEMA = `
CREATE TABLE IF NOT EXISTS migrations (
  migration_id TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL,
  state        TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  body         TEXT NOT NULL                   -- the whole MigrationRecord as JSON
) STRICT;
CREATE UNIQUE INDEX IF NOT EXISTS migrations_one_active_per_user ON migrations (user_id)
  WHERE state IN ('running', 'rolling-back');

CREATE TABLE IF NOT EXISTS relocations (
  wallet_id TEXT PRIMARY KEY,
  user_id   TEXT NOT NULL,
  cell_id   TEXT NOT NULL,
  epoch     INTEGER NOT NULL CHECK (epoch >= 1),
  moved_at  INTEGER NOT NULL
) STRICT;
`;

/**
 * The measured capacity column (added later): files made by an earlier release get it on open, keeping
 * their rows. NULL = never measured.
 */
export function addCapacityColumn(db: {
  prepare(sql: string): { all(): unknown[] };
  exec(sql: string): unknown;
}): void {
  const columns = db.prepare("PRAGMA table_info(cells)").all() as { name: string }[];
  if (!columns.some((c) => c.name === "max_ops_per_second")) {
    db.exec(
      "ALTER TABLE cells ADD COLUMN max_ops_per_second INTEGER CHECK (max_ops_per_second IS NULL OR max_ops_per_second > 0)",
    );
  }
}
