import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

/**
 * Kills another command makes of the launcher's processes on purpose (a backup restore kills a cell's processes so
 * that the launcher restarts them on the restored ledger), announced in a small file of the data dir just before:
 * the launcher then restarts such a process at once and says why, instead of reporting an unexpected crash and
 * counting a restart in `cellctl cells describe`. An announcement is honoured for a minute (a pid is not reused
 * that fast).
 */
interface IntendedKill {
  pid: number;
  reason: string;
  atMs: number;
}

const FRESH_MS = 60_000;

export function intendedKillsPath(dataDir: string): string {
  return resolve(dataDir, "control-plane", "intended-kills.json");
}

function read(path: string, nowMs: number): IntendedKill[] {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as IntendedKill[];
    return Array.isArray(parsed) ? parsed.filter((k) => nowMs - k.atMs < FRESH_MS) : [];
  } catch {
    return [];
  }
}

function write(path: string, kills: IntendedKill[]): void {
  if (kills.length === 0) {
    rmSync(path, { force: true });
    return;
  }
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(kills)}\n`);
  renameSync(tmp, path);
}

/** Announces that `pids` are about to be killed on purpose, and why (e.g. "backup restore of cell-2"). */
export function announceIntendedKills(
  dataDir: string,
  pids: readonly number[],
  reason: string,
  nowMs = Date.now(),
): void {
  const path = intendedKillsPath(dataDir);
  write(path, [...read(path, nowMs), ...pids.map((pid) => ({ pid, reason, atMs: nowMs }))]);
}

/** Why `pid` was killed on purpose, if that was announced (the announcement is used up); undefined otherwise. */
export function takeIntendedKill(dataDir: string, pid: number, nowMs = Date.now()): string | undefined {
  const path = intendedKillsPath(dataDir);
  const kills = read(path, nowMs);
  const found = kills.find((k) => k.pid === pid);
  if (!found) return undefined;
  write(
    path,
    kills.filter((k) => k !== found),
  );
  return found.reason;
}
