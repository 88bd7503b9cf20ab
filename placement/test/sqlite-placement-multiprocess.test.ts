/**
 * Several processes (router instances, cellctl) share one SQLite file. In one
 * process better-sqlite3 is synchronous, so only separate processes show
 * whether BEGIN IMMEDIATE really keeps two writers from both taking the last
 * slot of a cell or both placing one user.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { OnboardResult } from "../src/onboard-user.js";
import { SqlitePlacementStore } from "../src/sqlite-placement-store.js";

const here = new URL(".", import.meta.url).pathname;
const WORKER = join(here, "fixtures/onboard-worker.mjs");
const SRC = join(here, "../src");
const DIST = join(here, "../dist");
const BUILD_INFO = join(here, "../tsconfig.tsbuildinfo");

const PROCESSES = 4;
const USERS = 40;
const CAPACITY = 12;

interface WorkerResult {
  userId: string;
  result?: OnboardResult;
  error?: string;
}

interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<WorkerResult[]>;
}

function startWorker(path: string, userIds: string[]): Worker {
  const child = spawn(process.execPath, [WORKER, path, userIds.join(",")], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let signalReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    signalReady = resolve;
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.startsWith("ready\n")) signalReady();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<WorkerResult[]>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`worker exited ${code}: ${stderr}`));
      resolve(JSON.parse(stdout.slice("ready\n".length)) as WorkerResult[]);
    });
  });
  return { child, ready, done };
}

/** A deterministic shuffle per worker, so the processes contend for users in different orders. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe("SQLite placement store shared by several processes", () => {
  beforeAll(() => {
    // The workers run the build: stale JavaScript would test old code and pass or fail for the wrong reason.
    // tsc -b skips rewriting unchanged outputs, so its build info's time says when sources were last compiled.
    const builtAt = existsSync(BUILD_INFO) ? statSync(BUILD_INFO).mtimeMs : 0;
    for (const file of readdirSync(SRC).filter((f) => f.endsWith(".ts"))) {
      const built = join(DIST, file.replace(/\.ts$/, ".js"));
      if (!existsSync(built) || statSync(join(SRC, file)).mtimeMs > builtAt) {
        throw new Error(`${built} is missing or older than its source: run 'npx tsc -b' first`);
      }
    }
  });

  it(`${PROCESSES} processes onboarding the same ${USERS} users fill 2 cells of ${CAPACITY} exactly`, async () => {
    const path = join(mkdtempSync(join(tmpdir(), "cellwallet-placement-mp-")), "control-plane.sqlite");
    const setup = new SqlitePlacementStore({ path });
    const endpoints = [{ az: "az1", url: "http://127.0.0.1:9101", weight: 1 }];
    await setup.putCell({ cellId: "cell-a", state: "active", capacity: CAPACITY, endpoints });
    await setup.putCell({ cellId: "cell-b", state: "active", capacity: CAPACITY, endpoints });
    await setup.putCell({ cellId: "cell-c", state: "cordoned", capacity: CAPACITY, endpoints });

    const userIds = Array.from({ length: USERS }, (_, i) => `mp-user-${i}`);
    const workers = Array.from({ length: PROCESSES }, (_, w) => startWorker(path, shuffled(userIds, w + 1)));
    await Promise.all(workers.map((w) => w.ready));
    for (const w of workers) w.child.stdin?.write("go\n");
    const reports = await Promise.all(workers.map((w) => w.done));

    const cells = new Map((await setup.listCells()).map((c) => [c.cellId, c.users]));
    expect(Object.fromEntries(cells)).toEqual({ "cell-a": CAPACITY, "cell-b": CAPACITY, "cell-c": 0 });
    let placed = 0;
    for (const userId of userIds) {
      const stored = await setup.getUserPlacement(userId);
      if (stored) placed += 1;
      // Every process tells the same story about each user: the one stored placement, or no capacity.
      for (const report of reports) {
        const entry = report.find((r) => r.userId === userId);
        expect(entry?.error).toBeUndefined();
        expect(entry?.result).toEqual(stored ? { ok: true, placement: stored } : { ok: false, reason: "no-capacity" });
      }
    }
    expect(placed).toBe(2 * CAPACITY);
    await setup.close();
  });
});
