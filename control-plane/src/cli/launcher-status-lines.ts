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

/**
 * The router of the local platform that runs in WALLET_DATA_DIR (its launcher alive): the one in `az`, else its
 * first. Undefined when no launcher runs there. So a tool started with only WALLET_DATA_DIR talks to the
 * platform whose registry it writes, not to whatever answers on 8080.
 */
export function localRouterUrl(env: NodeJS.ProcessEnv, az: string): string | undefined {
  const status = readLauncherStatus(launcherStatusPath(resolve(env.WALLET_DATA_DIR ?? ".data")));
  if (!status || !launcherAlive(status)) return undefined;
  const routers = status.processes.filter((p) => p.kind === "router");
  const router = routers.find((p) => p.az === az) ?? routers[0];
  return router ? `http://127.0.0.1:${router.port}` : undefined;
}
