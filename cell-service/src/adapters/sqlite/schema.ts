/**
 * The embedded store's schema. Ledger entries are append-only: triggers refuse
 * UPDATE and DELETE, so not even a bug in this service can rewrite history.
 */
export const SCHEMA_VERSION = 1;

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS wallets (
  wallet_id     TEXT PRIMARY KEY,
  user_id       TEXT NOT NULL UNIQUE,          -- one wallet per user, enforced by the store
  currency      TEXT NOT NULL,
  balance       INTEGER NOT NULL CHECK (balance >= 0),
  version       INTEGER NOT NULL CHECK (version >= 0),
  head_hash     TEXT NOT NULL,
  last_entry_at INTEGER NOT NULL,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  -- Ownership (migration between cells): only 'active' accepts writes.
  state         TEXT NOT NULL DEFAULT 'active'
                CHECK (state IN ('active', 'frozen', 'moved', 'importing', 'abandoned')),
  epoch         INTEGER NOT NULL DEFAULT 1,
  migration_id  TEXT,
  peer_cell_id  TEXT
) STRICT;

-- Users without a wallet fenced by a migration: no wallet may be created for them here.
CREATE TABLE IF NOT EXISTS user_fences (
  user_id        TEXT PRIMARY KEY,
  state          TEXT NOT NULL CHECK (state IN ('frozen', 'moved')),
  epoch          INTEGER NOT NULL,
  migration_id   TEXT NOT NULL,
  target_cell_id TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS entries (
  wallet_id              TEXT NOT NULL,
  sequence               INTEGER NOT NULL CHECK (sequence >= 1),
  transaction_id         TEXT NOT NULL,
  type                   TEXT NOT NULL,
  amount                 INTEGER NOT NULL CHECK (amount > 0),
  currency               TEXT NOT NULL,
  balance_after          INTEGER NOT NULL,
  created_at             INTEGER NOT NULL,
  context_digest         TEXT NOT NULL,
  prev_hash              TEXT NOT NULL,
  hash                   TEXT NOT NULL,
  reference              TEXT,
  transfer_id            TEXT,
  counterparty_wallet_id TEXT,
  context                TEXT NOT NULL,        -- audit context (JSON), for auditors only
  PRIMARY KEY (wallet_id, sequence)
) STRICT, WITHOUT ROWID;

-- Historical balance and time-bounded listing: one index seek.
CREATE INDEX IF NOT EXISTS entries_by_time ON entries (wallet_id, created_at, sequence);
CREATE UNIQUE INDEX IF NOT EXISTS entries_by_transaction ON entries (wallet_id, transaction_id);

CREATE TRIGGER IF NOT EXISTS entries_are_append_only_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_are_append_only_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;

-- Signed cell checkpoints and the wallet heads they commit to: written once, never changed.
CREATE TABLE IF NOT EXISTS checkpoints (
  sequence INTEGER PRIMARY KEY CHECK (sequence >= 1),
  body     TEXT NOT NULL                       -- the Checkpoint as JSON (hash and signature included)
) STRICT;
CREATE TABLE IF NOT EXISTS snapshot_heads (
  snapshot_id TEXT NOT NULL,
  wallet_id   TEXT NOT NULL,
  currency    TEXT NOT NULL,
  balance     INTEGER NOT NULL,
  version     INTEGER NOT NULL,
  head_hash   TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, wallet_id)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS checkpoints_are_append_only_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_are_append_only_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER IF NOT EXISTS snapshot_heads_are_append_only_update BEFORE UPDATE ON snapshot_heads
BEGIN SELECT RAISE(ABORT, 'snapshots are append-only'); END;
CREATE TRIGGER IF NOT EXISTS snapshot_heads_are_append_only_delete BEFORE DELETE ON snapshot_heads
BEGIN SELECT RAISE(ABORT, 'snapshots are append-only'); END;

CREATE TABLE IF NOT EXISTS transfers (
  transfer_id         TEXT PRIMARY KEY,
  from_wallet_id      TEXT NOT NULL,
  to_wallet_id        TEXT NOT NULL,
  from_user_id        TEXT,                  -- unknown on an incoming cross-cell transfer
  to_user_id          TEXT,
  amount              INTEGER NOT NULL CHECK (amount > 0),
  currency            TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('PENDING', 'COMPLETED', 'FAILED')),
  created_at          INTEGER NOT NULL,
  completed_at        INTEGER,
  reference           TEXT,
  destination_cell_id TEXT,
  source_cell_id      TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS transfers_pending ON transfers (status, created_at) WHERE status = 'PENDING';
CREATE INDEX IF NOT EXISTS transfers_pending_from ON transfers (from_wallet_id) WHERE status = 'PENDING';

CREATE TABLE IF NOT EXISTS idempotency (
  scope_key    TEXT PRIMARY KEY,
  fingerprint  TEXT NOT NULL,
  status       INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  location     TEXT,
  body         TEXT NOT NULL,
  created_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL,
  wallet_id    TEXT                            -- the wallet acted on (a migration copies the records)
) STRICT;
CREATE INDEX IF NOT EXISTS idempotency_expiry ON idempotency (expires_at);
`;

/** Columns added after the first release: added to existing files before SCHEMA's indexes use them. */
export const ADDED_COLUMNS: readonly { table: string; column: string; definition: string }[] = [
  {
    table: "wallets",
    column: "state",
    definition:
      "TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'frozen', 'moved', 'importing', 'abandoned'))",
  },
  { table: "wallets", column: "epoch", definition: "INTEGER NOT NULL DEFAULT 1" },
  { table: "wallets", column: "migration_id", definition: "TEXT" },
  { table: "wallets", column: "peer_cell_id", definition: "TEXT" },
  { table: "idempotency", column: "wallet_id", definition: "TEXT" },
  // 1 while a cross-cell transfer's request may still replace its 202 by the final answer (see IdempotencyRecord).
  { table: "idempotency", column: "provisional", definition: "INTEGER NOT NULL DEFAULT 0" },
];

export const LATE_INDEXES = `
CREATE INDEX IF NOT EXISTS idempotency_by_wallet ON idempotency (wallet_id, created_at) WHERE wallet_id IS NOT NULL;
`;
