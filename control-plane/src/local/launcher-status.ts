import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

/**
 * What the launcher (`npm start`) last saw of every process it supervises,
 * written to a small JSON file in the data dir on every change so that
 * `cellctl cells describe` can show restarts and crash-looping processes.
 */
export type LauncherProcessState = "running" | "starting" | "backoff" | "crash-looping" | "stopped" | "failed";

export interface LauncherProcessStatus {
  name: string;
  kind: "cell" | "router";
  cellId?: string;
  az: string;
  port: number;
  pid?: number;
  state: LauncherProcessState;
  restarts: number;
  consecutiveCrashes: number;
  lastExit?: { reason: string; at: string };
  nextRestartAt?: string;
  upSince?: string;
}

export interface LauncherStatus {
  launcherPid: number;
  updatedAt: string;
  processes: LauncherProcessStatus[];
}

export function launcherStatusPath(dataDir: string): string {
  return resolve(dataDir, "control-plane", "launcher-status.json");
}

/** Written to a temporary file and renamed over the old one, so a reader never sees half a file. */
export function writeLauncherStatus(path: string, status: LauncherStatus): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(status, null, 2)}\n`);
  renameSync(tmp, path);
}

/** The last status, or undefined when no launcher ever wrote one here (or the file is unreadable). */
export function readLauncherStatus(path: string): LauncherStatus | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as LauncherStatus;
    return Array.isArray(parsed.processes) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the launcher that wrote the status still runs (signal 0 only checks the process exists). */
export function launcherAlive(status: LauncherStatus): boolean {
  try {
    process.kill(status.launcherPid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
