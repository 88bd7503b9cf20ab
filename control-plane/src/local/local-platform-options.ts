import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from "./crash-backoff.js";
import { fetchBlocksPort } from "./fetch-blocked-ports.js";
import { DEFAULT_LIVENESS, type LivenessPolicy } from "./liveness.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

export interface LocalPlatformOptions {
  dataDir: string;
  cells: number;
  azs: string[];
  /** The first AZ's router listens here; the others on the next ports. */
  routerPort: number;
  /** Cell i (0-based), AZ j listens on cellBasePort + 10*i + j. */
  cellBasePort: number;
  capacity: number;
  /** Extra environment for every process (store choice, secrets, log level). */
  env?: Record<string, string>;
  /** Where process output goes: inherit (the terminal) or ignore. */
  stdio?: "inherit" | "ignore";
  /** How often the launcher checks the declared state for changes (ms); default 200. */
  reconcileIntervalMs?: number;
  /**
   * A process that exits nobody asked for is restarted with crash-loop backoff
   * (default DEFAULT_RESTART_POLICY); false leaves it down (stopProcess() is
   * never an unexpected exit either way).
   */
  restart?: Partial<RestartPolicy> | false;
  /**
   * A process that answered /health once and then stops answering (hung) is killed and restarted (default
   * DEFAULT_LIVENESS, the manifests' liveness probe); false never probes.
   */
  liveness?: Partial<LivenessPolicy> | false;
}

/**
 * The launcher's settings from the environment. A value that cannot work (not a whole number, no cells, an
 * empty or repeated AZ name, a port beyond 65535 for the last process, a port fetch refuses, a restart wait of 0
 * that would spin)
 * throws one line naming the variable: `npm start` prints it and exits 1 before starting anything. Unset or
 * empty means the default.
 */
export function localPlatformOptionsFromEnv(env: NodeJS.ProcessEnv): LocalPlatformOptions {
  const int = (name: string, fallback: number, min = 0) => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === "") return fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min) {
      throw new Error(`${name} must be a whole number${min > 0 ? ` of at least ${min}` : ""}, got "${raw}"`);
    }
    return value;
  };
  const azs = (env.LOCAL_AZS?.trim() || "az-1,az-2,az-3").split(",").map((s) => s.trim());
  if (azs.some((az) => az === "") || new Set(azs).size !== azs.length) {
    throw new Error(`LOCAL_AZS must name distinct AZs separated by commas, got "${env.LOCAL_AZS}"`);
  }
  const cells = int("LOCAL_CELLS", 2, 1);
  const routerPort = int("ROUTER_PORT", 8080, 1);
  const cellBasePort = int("LOCAL_CELL_BASE_PORT", 9100, 1);
  const lastPort = (name: string, port: number) => {
    if (port > 65_535) throw new Error(`${name} leaves no room: its processes would need ports up to ${port}`);
  };
  lastPort("ROUTER_PORT", routerPort + azs.length - 1);
  lastPort("LOCAL_CELL_BASE_PORT", cellBasePort + 10 * (cells - 1) + azs.length - 1);
  const reachable = (name: string, ports: number[]) => {
    const blocked = ports.find(fetchBlocksPort);
    if (blocked !== undefined) {
      throw new Error(
        `${name} would put a process on port ${blocked}, which fetch refuses ("bad port"): choose other ports`,
      );
    }
  };
  reachable(
    "ROUTER_PORT",
    azs.map((_, j) => routerPort + j),
  );
  reachable(
    "LOCAL_CELL_BASE_PORT",
    Array.from({ length: cells }, (_, i) => azs.map((_, j) => cellBasePort + 10 * i + j)).flat(),
  );
  const initialMs = int("LOCAL_RESTART_INITIAL_MS", DEFAULT_RESTART_POLICY.initialMs, 1);
  const livenessPeriodMs = int("LOCAL_LIVENESS_PERIOD_MS", DEFAULT_LIVENESS.periodMs);
  return {
    dataDir: resolve(env.WALLET_DATA_DIR ?? resolve(root, ".data")),
    cells,
    azs,
    routerPort,
    cellBasePort,
    capacity: int("LOCAL_CELL_CAPACITY", 100_000),
    stdio: "inherit",
    restart: {
      initialMs,
      maxMs: int("LOCAL_RESTART_MAX_MS", Math.max(DEFAULT_RESTART_POLICY.maxMs, initialMs), initialMs),
      resetAfterMs: int("LOCAL_RESTART_RESET_MS", DEFAULT_RESTART_POLICY.resetAfterMs),
    },
    // 0 turns the probe off (e.g. to attach a debugger that stops a process at a breakpoint).
    liveness:
      livenessPeriodMs === 0
        ? false
        : {
            periodMs: livenessPeriodMs,
            failureThreshold: int("LOCAL_LIVENESS_FAILURES", DEFAULT_LIVENESS.failureThreshold, 1),
          },
  };
}
