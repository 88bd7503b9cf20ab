import type { ChildProcess } from "node:child_process";
import { newSupervisionRecord } from "./crash-backoff.js";
import type { LocalPlatformOptions } from "./local-platform-options.js";
import type { Supervised } from "./process-supervisor.js";

/** One process of the local platform (its own module: the launcher and its status report share it), and the
 * processes the launcher declares. */
export interface ManagedProcess extends Supervised {
  name: string;
  kind: "cell" | "router";
  cellId?: string;
  az: string;
  port: number;
  env: Record<string, string>;
  child?: ChildProcess;
  /** Cells: the named build this process runs (see LocalPlatformState); default the repo's own. */
  version?: string;
  /** Cells: why the last start on `version` failed. */
  error?: string;
  startedOnce?: boolean;
  /** The pid of the current process once it became ready (the liveness probe judges only that one). */
  readyPid?: number;
  /** The pid the liveness probe killed as hung (its exit is reported as such). */
  hungPid?: number;
  /** The id of the current launch (CELLWALLET_INSTANCE), echoed by the process on /health and /ready. */
  instance?: string;
}

/** One router per AZ: the first AZ's on routerPort, the others on the next ports. */
export function routerProcesses(options: LocalPlatformOptions, env: Record<string, string>): ManagedProcess[] {
  return options.azs.map((az, j) => {
    const port = options.routerPort + j;
    return {
      name: `router/${az}`,
      kind: "router",
      az,
      port,
      env: { ...env, AZ: az, ROUTER_PORT: String(port) },
      supervision: newSupervisionRecord(),
      intent: 0,
    };
  });
}

/** One process per AZ for a cell; cell `ordinal` listens on cellBasePort + 10 * ordinal + AZ index. */
export function cellProcesses(
  options: LocalPlatformOptions,
  cellId: string,
  ordinal: number,
  env: Record<string, string>,
): ManagedProcess[] {
  return options.azs.map((az, j) => {
    const port = options.cellBasePort + 10 * ordinal + j;
    return {
      name: `${cellId}/${az}`,
      kind: "cell",
      cellId,
      az,
      port,
      // Cross-cell credits go through the router of the same AZ.
      env: {
        ...env,
        CELL_ID: cellId,
        AZ: az,
        PORT: String(port),
        ROUTER_INTERNAL_URL: `http://127.0.0.1:${options.routerPort + j}`,
      },
      supervision: newSupervisionRecord(),
      intent: 0,
    };
  });
}
