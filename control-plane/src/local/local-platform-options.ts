import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_RESTART_POLICY, type RestartPolicy } from "./crash-backoff.js";

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
}

export function localPlatformOptionsFromEnv(env: NodeJS.ProcessEnv): LocalPlatformOptions {
  const int = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer`);
    return value;
  };
  return {
    dataDir: resolve(env.WALLET_DATA_DIR ?? resolve(root, ".data")),
    cells: int("LOCAL_CELLS", 2),
    azs: (env.LOCAL_AZS ?? "az-1,az-2,az-3").split(",").map((s) => s.trim()),
    routerPort: int("ROUTER_PORT", 8080),
    cellBasePort: int("LOCAL_CELL_BASE_PORT", 9100),
    capacity: int("LOCAL_CELL_CAPACITY", 100_000),
    stdio: "inherit",
    restart: {
      initialMs: int("LOCAL_RESTART_INITIAL_MS", DEFAULT_RESTART_POLICY.initialMs),
      maxMs: int("LOCAL_RESTART_MAX_MS", DEFAULT_RESTART_POLICY.maxMs),
      resetAfterMs: int("LOCAL_RESTART_RESET_MS", DEFAULT_RESTART_POLICY.resetAfterMs),
    },
  };
}
