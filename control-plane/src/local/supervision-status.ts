import { isCrashLooping, type RestartPolicy } from "./crash-backoff.js";
import type { LauncherProcessState, LauncherProcessStatus } from "./launcher-status.js";
import type { ManagedProcess } from "./managed-process.js";

/** Every process's supervision as the launcher writes it for `cellctl cells describe`. */
export function supervisionStatus(
  processes: readonly ManagedProcess[],
  policy: RestartPolicy | undefined,
): LauncherProcessStatus[] {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
  return processes.map((p) => {
    const s = p.supervision;
    const state: LauncherProcessState =
      p.child && s.upSinceMs !== undefined
        ? "running"
        : policy && isCrashLooping(s, policy)
          ? "crash-looping"
          : p.child
            ? "starting"
            : s.nextRestartAtMs !== undefined
              ? "backoff"
              : p.error
                ? "failed"
                : "stopped";
    return {
      name: p.name,
      kind: p.kind,
      ...(p.cellId ? { cellId: p.cellId } : {}),
      az: p.az,
      port: p.port,
      ...(p.child?.pid ? { pid: p.child.pid } : {}),
      state,
      restarts: s.restarts,
      consecutiveCrashes: s.consecutiveCrashes,
      ...(s.lastExit ? { lastExit: { reason: s.lastExit.reason, at: iso(s.lastExit.atMs) as string } } : {}),
      ...(s.nextRestartAtMs !== undefined ? { nextRestartAt: iso(s.nextRestartAtMs) } : {}),
      ...(p.child && s.upSinceMs !== undefined ? { upSince: iso(s.upSinceMs) } : {}),
    };
  });
}
