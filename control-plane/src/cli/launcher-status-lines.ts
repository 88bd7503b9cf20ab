import { resolve } from "node:path";
import {
  type LauncherStatus,
  launcherAlive,
  launcherStatusPath,
  readLauncherStatus,
} from "../local/launcher-status.js";

/**
 * The local launcher's view of one cell's processes (restarts, crash loops),
 * read from the status file `npm start` keeps in the data dir; nothing when no
 * launcher ever ran there (a cell deployed elsewhere).
 */
export function launcherSupervision(
  env: NodeJS.ProcessEnv,
  cellId: string,
): { json?: LauncherStatus & { launcherRunning: boolean }; lines: string[] } {
  const status = readLauncherStatus(launcherStatusPath(resolve(env.WALLET_DATA_DIR ?? ".data")));
  const processes = status?.processes.filter((p) => p.cellId === cellId) ?? [];
  if (!status || processes.length === 0) return { lines: [] };
  const running = launcherAlive(status);
  const lines = [
    "",
    `Processes (local launcher pid ${status.launcherPid}, ${running ? "running" : "NOT RUNNING"}; last change ${status.updatedAt}):`,
    "AZ         STATE          PID      RESTARTS  LAST EXIT",
  ];
  for (const p of processes) {
    const exit = p.lastExit ? `${p.lastExit.reason} at ${p.lastExit.at}` : "-";
    const next = p.nextRestartAt ? `; next restart ${p.nextRestartAt}` : "";
    const state = p.state === "crash-looping" ? `CRASH-LOOPING` : p.state;
    lines.push(
      `${p.az.padEnd(10)} ${state.padEnd(14)} ${String(p.pid ?? "-").padEnd(8)} ${String(p.restarts).padStart(8)}  ${exit}${next}`,
    );
  }
  return { json: { ...status, processes, launcherRunning: running }, lines };
}
