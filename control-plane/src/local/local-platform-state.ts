import { resolve } from "node:path";
import type Database from "better-sqlite3";
import { openSqliteFile } from "../sqlite-file.js";

/**
 * The local platform's declarative state, shared through one SQLite file in
 * the data dir between the launcher (`npm start`, which reconciles) and cellctl
 * (which declares): the named builds (versions), which cells exist, which
 * version every cell process of every AZ should run, and what the launcher
 * last observed. Every declaration bumps a generation; the launcher reports the
 * generation it has applied, so a writer knows when its change is in place.
 */
export interface LocalVersion {
  name: string;
  /** The cell entry script (e.g. a build's cell-service/dist/main.js). */
  entry: string;
}

export interface DesiredCell {
  cellId: string;
  /** Fixes the cell's ports: cellBasePort + 10 * ordinal + AZ index. */
  ordinal: number;
  versions: Record<string, string>;
}

export interface DesiredState {
  generation: number;
  cells: DesiredCell[];
}

export type ObservedStatus = "running" | "failed" | "stopped";

export interface ObservedProcess {
  cellId: string;
  az: string;
  version: string;
  port: number;
  pid?: number;
  status: ObservedStatus;
  error?: string;
}

export interface ObservedState {
  appliedGeneration: number;
  /** When the launcher last reported (ms since the epoch); a stale heartbeat means no launcher runs. */
  heartbeatMs: number;
  processes: ObservedProcess[];
}

/** The version name of the repository's own build (cell-service/dist/main.js). */
export const DEFAULT_LOCAL_VERSION = "dev";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS versions (name TEXT PRIMARY KEY, entry TEXT NOT NULL, registered_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cells (cell_id TEXT PRIMARY KEY, ordinal INTEGER NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS desired (cell_id TEXT NOT NULL, az TEXT NOT NULL, version TEXT NOT NULL, PRIMARY KEY (cell_id, az));
CREATE TABLE IF NOT EXISTS observed (
  cell_id TEXT NOT NULL, az TEXT NOT NULL, version TEXT NOT NULL, port INTEGER NOT NULL,
  pid INTEGER, status TEXT NOT NULL, error TEXT, PRIMARY KEY (cell_id, az));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

export function localPlatformStatePath(dataDir: string): string {
  return resolve(dataDir, "control-plane", "local-platform.sqlite");
}

export class LocalPlatformState {
  private readonly db: Database.Database;

  constructor(readonly path: string) {
    this.db = openSqliteFile(path);
    this.db.exec(SCHEMA);
  }

  private meta(key: string): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: number } | undefined;
    return row?.value ?? 0;
  }

  private setMeta(key: string, value: number): void {
    this.db
      .prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
      .run(key, value);
  }

  private bump(): number {
    const next = this.meta("generation") + 1;
    this.setMeta("generation", next);
    return next;
  }

  registerVersion(version: LocalVersion): void {
    this.db
      .prepare(
        "INSERT INTO versions (name, entry, registered_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET entry = excluded.entry",
      )
      .run(version.name, version.entry, Date.now());
  }

  version(name: string): LocalVersion | undefined {
    return this.db.prepare("SELECT name, entry FROM versions WHERE name = ?").get(name) as LocalVersion | undefined;
  }

  versions(): LocalVersion[] {
    return this.db.prepare("SELECT name, entry FROM versions ORDER BY registered_at, name").all() as LocalVersion[];
  }

  /** First start on an empty data dir: the configured cells, every AZ on the default version. */
  seed(cellIds: readonly string[], azs: readonly string[], version: string): void {
    this.db
      .transaction(() => {
        const count = (this.db.prepare("SELECT COUNT(*) AS n FROM cells").get() as { n: number }).n;
        if (count > 0) return;
        cellIds.forEach((cellId, ordinal) => {
          this.db.prepare("INSERT INTO cells (cell_id, ordinal) VALUES (?, ?)").run(cellId, ordinal);
          for (const az of azs) this.db.prepare("INSERT INTO desired VALUES (?, ?, ?)").run(cellId, az, version);
        });
        this.bump();
      })
      .immediate();
  }

  /** Declares a new cell with one process per AZ; refused (undefined) if it exists. Returns the generation. */
  addCell(cellId: string, azs: readonly string[], version: string): number | undefined {
    return this.db
      .transaction(() => {
        if (this.db.prepare("SELECT 1 FROM cells WHERE cell_id = ?").get(cellId)) return undefined;
        const max = (this.db.prepare("SELECT MAX(ordinal) AS m FROM cells").get() as { m: number | null }).m;
        this.db.prepare("INSERT INTO cells (cell_id, ordinal) VALUES (?, ?)").run(cellId, (max ?? -1) + 1);
        for (const az of azs) this.db.prepare("INSERT INTO desired VALUES (?, ?, ?)").run(cellId, az, version);
        return this.bump();
      })
      .immediate();
  }

  /** Declares the version one cell process should run. Returns the generation to wait for; undefined if unknown. */
  setVersion(cellId: string, az: string, version: string): number | undefined {
    return this.db
      .transaction(() => {
        const changed = this.db
          .prepare("UPDATE desired SET version = ? WHERE cell_id = ? AND az = ?")
          .run(version, cellId, az).changes;
        return changed === 1 ? this.bump() : undefined;
      })
      .immediate();
  }

  desired(): DesiredState {
    return this.db
      .transaction(() => {
        const cells = this.db.prepare("SELECT cell_id, ordinal FROM cells ORDER BY ordinal").all() as Array<{
          cell_id: string;
          ordinal: number;
        }>;
        const rows = this.db.prepare("SELECT cell_id, az, version FROM desired").all() as Array<{
          cell_id: string;
          az: string;
          version: string;
        }>;
        return {
          generation: this.meta("generation"),
          cells: cells.map((c) => ({
            cellId: c.cell_id,
            ordinal: c.ordinal,
            versions: Object.fromEntries(rows.filter((r) => r.cell_id === c.cell_id).map((r) => [r.az, r.version])),
          })),
        };
      })
      .deferred();
  }

  /** The launcher's report: what runs, and up to which generation it has applied the declarations. */
  report(appliedGeneration: number, processes: readonly ObservedProcess[]): void {
    this.db
      .transaction(() => {
        this.db.prepare("DELETE FROM observed").run();
        const insert = this.db.prepare("INSERT INTO observed VALUES (?, ?, ?, ?, ?, ?, ?)");
        for (const p of processes) {
          insert.run(p.cellId, p.az, p.version, p.port, p.pid ?? null, p.status, p.error ?? null);
        }
        this.setMeta("applied_generation", appliedGeneration);
        this.setMeta("heartbeat_ms", Date.now());
      })
      .immediate();
  }

  heartbeat(): void {
    this.setMeta("heartbeat_ms", Date.now());
  }

  observed(): ObservedState {
    return this.db
      .transaction(() => {
        const rows = this.db.prepare("SELECT * FROM observed ORDER BY cell_id, az").all() as Array<
          Record<string, unknown>
        >;
        return {
          appliedGeneration: this.meta("applied_generation"),
          heartbeatMs: this.meta("heartbeat_ms"),
          processes: rows.map((r) => ({
            cellId: String(r.cell_id),
            az: String(r.az),
            version: String(r.version),
            port: Number(r.port),
            ...(r.pid === null ? {} : { pid: Number(r.pid) }),
            status: String(r.status) as ObservedStatus,
            ...(r.error === null ? {} : { error: String(r.error) }),
          })),
        };
      })
      .deferred();
  }

  close(): void {
    this.db.close();
  }
}
