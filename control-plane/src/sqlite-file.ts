import { openSqliteFile as open } from "@cellwallet/store-support/sqlite";
import type Database from "better-sqlite3";

/**
 * Opens one of the control plane's embedded SQLite files: the placement registry, the rollout state, the
 * operator audit trail, the launcher's desired state. Several processes open them at once (cellctl beside
 * the launcher and the routers): the shared opener waits out their start-up races.
 */
export function openSqliteFile(path: string, busyTimeoutMs = 5000): Database.Database {
  return open(path, { busyTimeoutMs });
}
