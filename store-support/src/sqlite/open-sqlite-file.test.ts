import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteFile } from "./open-sqlite-file.js";

// Another process that opened the file first, in SQLite's default rollback mode, and holds a write
// transaction: the state a replica is in while it switches a new file to WAL. SQLite answers a second
// opener's switch with SQLITE_BUSY at once, whatever its busy timeout (waiting could deadlock).
const HOLDER = `
const Database = require("better-sqlite3");
const db = new Database(process.argv[1]);
db.exec("CREATE TABLE IF NOT EXISTS held (n INTEGER)");
db.exec("BEGIN IMMEDIATE");
db.exec("INSERT INTO held VALUES (1)");
process.stdout.write("held\\n");
setTimeout(() => { db.exec("COMMIT"); db.close(); process.stdout.write("released\\n"); }, Number(process.argv[2]));
`;

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

async function holdWriteLock(path: string, ms: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["-e", HOLDER, path, String(ms)], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  const [chunk] = (await once(child.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
  expect(chunk.toString()).toContain("held");
  return child;
}

describe("openSqliteFile beside another process", () => {
  it("waits for a write lock held across the switch to WAL, then opens in WAL with its schema", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "open-sqlite-")), "shared.db");
    const holder = await holdWriteLock(path, 400);
    const exited = once(holder, "exit");
    const db = openSqliteFile(path, { busyTimeoutMs: 10_000, initialise: (d) => d.exec("CREATE TABLE t (n)") });
    try {
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.pragma("synchronous", { simple: true })).toBe(2);
      expect(db.prepare("SELECT count(*) AS n FROM held").get()).toEqual({ n: 1 });
      expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
    await exited;
  });

  it("gives up with SQLITE_BUSY once its busy timeout has passed", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "open-sqlite-")), "shared.db");
    // Held until the test ends (afterEach kills the holder): with a timed hold, a worker stalled past it would find
    // the lock released and open the file.
    await holdWriteLock(path, 600_000);
    const started = Date.now();
    expect(() => openSqliteFile(path, { busyTimeoutMs: 300 })).toThrow(
      expect.objectContaining({ code: "SQLITE_BUSY" }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
