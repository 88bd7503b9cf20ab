import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";

/**
 * Opens (creating its folder) one of the control plane's embedded SQLite files: the placement registry, the
 * rollout state, the operator audit trail, the launcher's desired state. Several processes open them at once
 * (cellctl beside the launcher and the routers), so the busy timeout is set first: switching to WAL takes a
 * lock, and a process must wait for it rather than fail with SQLITE_BUSY. Every commit is fsynced.
 */
export function openSqliteFile(path: string, busyTimeoutMs = 5000): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  return db;
}
