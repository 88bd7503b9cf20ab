import { openSqliteFile as open } from "@cellwallet/store-support/sqlite";
import type Database from "better-sqlite3";

/**
 * Opens the placement registry's SQLite file. Several processes open it at once (every router, cellctl, the
 * launcher): the shared opener waits out their start-up races.
 */
export function openSqliteFile(path: string, busyTimeoutMs = 5000): Database.Database {
  return open(path, { busyTimeoutMs });
}
