import type { ChildProcess } from "node:child_process";
import type { Supervised } from "./process-supervisor.js";

/** One process of the local platform (its own module: the launcher and its status report share it). */
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
  /** The id of the current launch (CELLWALLET_INSTANCE), echoed by the process on /health and /ready. */
  instance?: string;
}
