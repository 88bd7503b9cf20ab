/**
 * Crash-loop backoff for the local launcher, the way an orchestrator restarts
 * a container: the first restart comes quickly, each further crash in a row
 * doubles the wait up to a cap, and a process that stayed up long enough starts
 * again from the shortest wait. Plain data and arithmetic, no timers or I/O.
 */
export interface RestartPolicy {
  /** Wait before the first restart after a crash (ms). */
  initialMs: number;
  /** The longest wait between restarts (ms). */
  maxMs: number;
  /** A process that stayed up this long had recovered: its next crash counts as the first again (ms). */
  resetAfterMs: number;
  /** From this many crashes in a row (without staying up resetAfterMs) the process is reported crash-looping. */
  crashLoopAfter: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialMs: 500,
  maxMs: 30_000,
  resetAfterMs: 10_000,
  crashLoopAfter: 3,
};

export interface ExitRecord {
  /** The exit code, or the signal that ended the process, or why a restart failed to become ready. */
  reason: string;
  atMs: number;
}

export interface SupervisionRecord {
  /** Successful restarts by the supervisor since the launcher started. */
  restarts: number;
  /** Crashes (or failed restarts) in a row since the process last stayed up resetAfterMs. */
  consecutiveCrashes: number;
  /** When the running process became ready. */
  upSinceMs?: number;
  lastExit?: ExitRecord;
  /** When the pending restart is due; undefined when none is pending. */
  nextRestartAtMs?: number;
}

export function newSupervisionRecord(): SupervisionRecord {
  return { restarts: 0, consecutiveCrashes: 0 };
}

/**
 * Records a crash (or a restart that failed) and returns the wait before the
 * next restart: initialMs · 2^(crashes in a row − 1), capped at maxMs.
 */
export function recordCrash(
  record: SupervisionRecord,
  policy: RestartPolicy,
  reason: string,
  nowMs: number,
): { record: SupervisionRecord; delayMs: number } {
  const recovered = record.upSinceMs !== undefined && nowMs - record.upSinceMs >= policy.resetAfterMs;
  const consecutiveCrashes = (recovered ? 0 : record.consecutiveCrashes) + 1;
  const delayMs = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(consecutiveCrashes - 1, 30));
  return {
    record: {
      restarts: record.restarts,
      consecutiveCrashes,
      lastExit: { reason, atMs: nowMs },
      nextRestartAtMs: nowMs + delayMs,
    },
    delayMs,
  };
}

export function recordRestarted(record: SupervisionRecord, nowMs: number): SupervisionRecord {
  return { ...record, restarts: record.restarts + 1, upSinceMs: nowMs, nextRestartAtMs: undefined };
}

/** Crashed crashLoopAfter times in a row and not up since (waiting for, or in, its next restart). */
export function isCrashLooping(record: SupervisionRecord, policy: RestartPolicy): boolean {
  return record.upSinceMs === undefined && record.consecutiveCrashes >= policy.crashLoopAfter;
}
