import { dirname } from "node:path";
import Database from "better-sqlite3";
import { makeDirectory } from "../fs/make-directory.js";
import { assertSupportedNode } from "./supported-node.js";

export interface SqliteOpenOptions {
  /** How long a process waits for another process's lock, in ms (while opening and on every later write). */
  busyTimeoutMs?: number;
  /** Runs once the file is in WAL mode, inside an immediate transaction (schema creation, upgrades). */
  initialise?: (db: Database.Database) => void;
}

const SLEEP_CELL = new Int32Array(new SharedArrayBuffer(4));

function isBusy(error: unknown): boolean {
  return error instanceof Error && "code" in error && /^SQLITE_(BUSY|LOCKED)/.test(String(error.code));
}

/** Blocks the thread: opening happens once, at start-up, before the process serves anything. */
function sleep(ms: number): void {
  Atomics.wait(SLEEP_CELL, 0, 0, ms);
}

/**
 * Runs a step that SQLite may refuse at once with SQLITE_BUSY even with a busy timeout set: when two
 * processes open a new file together, both hold a read lock while switching to WAL, and SQLite answers
 * one of them BUSY without waiting, because waiting could deadlock. Retried until the deadline.
 */
function retryWhileBusy<T>(step: () => T, deadline: number): T {
  for (let attempt = 1; ; attempt++) {
    try {
      return step();
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
      sleep(Math.min(5 * attempt, 100) + Math.random() * 10);
    }
  }
}

/** SQLite may also answer a switch it could not make with the old mode rather than an error. */
function switchToWal(db: Database.Database): void {
  const mode = db.pragma("journal_mode = WAL", { simple: true });
  if (String(mode).toLowerCase() !== "wal") {
    throw Object.assign(new Error(`could not switch ${db.name} to WAL (still ${mode})`), { code: "SQLITE_BUSY" });
  }
}

/**
 * Opens (creating its folder) an embedded SQLite file that several processes share: a local cell's AZ
 * replicas, cellctl beside the launcher and the routers. WAL, and every commit fsynced (synchronous=FULL).
 */
export function openSqliteFile(path: string, options: SqliteOpenOptions = {}): Database.Database {
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  assertSupportedNode();
  makeDirectory(dirname(path));
  const db = new Database(path);
  try {
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    const deadline = Date.now() + busyTimeoutMs;
    retryWhileBusy(() => switchToWal(db), deadline);
    db.pragma("synchronous = FULL");
    const { initialise } = options;
    if (initialise) retryWhileBusy(() => db.transaction(() => initialise(db)).immediate(), deadline);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}
