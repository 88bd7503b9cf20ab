import type { ManagedProcess } from "./managed-process.js";
import { PortTakenError } from "./wait-ready.js";

/** The setting that moves a process's port (README "Configuration"). */
export function portVariable(p: Pick<ManagedProcess, "kind">): string {
  return p.kind === "router" ? "ROUTER_PORT" : "LOCAL_CELL_BASE_PORT";
}

/**
 * One line naming the process and why its launch failed; when its port is held by another process, what to
 * do about it: stop that process, or move this platform's ports.
 */
export function launchError(p: Pick<ManagedProcess, "name" | "kind" | "port">, error: Error): Error {
  const what = error.message.split("\n")[0] ?? "failed to start";
  if (!(error instanceof PortTakenError)) return new Error(`${p.name}: ${what}`);
  return new Error(
    `${p.name}: ${what}; port ${p.port} is held by another process (another platform's?): stop it or set ${portVariable(p)} to free ports`,
  );
}
