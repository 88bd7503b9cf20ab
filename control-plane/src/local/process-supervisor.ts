import type { ChildProcess } from "node:child_process";
import {
  isCrashLooping,
  type RestartPolicy,
  recordCrash,
  recordRestarted,
  type SupervisionRecord,
} from "./crash-backoff.js";

/** What the supervisor needs of a managed process (see ManagedProcess in local-platform.ts). */
export interface Supervised {
  name: string;
  child?: ChildProcess;
  /** Restarts, crashes in a row, last exit: what the supervisor knows of this process. */
  supervision: SupervisionRecord;
  /** Bumped by every deliberate start or stop, so a pending or running restart knows it was overtaken. */
  intent: number;
  restartTimer?: NodeJS.Timeout;
}

/** What the supervisor reports: a process exited unexpectedly (restart pending) or came back. */
export type SupervisorEvent<P extends Supervised = Supervised> =
  | { type: "exited"; process: P; reason: string; delayMs: number; crashLooping: boolean }
  | { type: "restarted"; process: P; pid: number | undefined; after: number };

export interface SupervisorHooks<P extends Supervised> {
  /** Spawns the process and resolves once it is ready (rejects if it exits or times out first). */
  launch(p: P): Promise<void>;
  /** True once the whole platform is stopping: nothing is restarted any more. */
  stopping(): boolean;
  /** Something observable changed (a crash, a pending restart, a restart): publish the status. */
  changed(p: P): void;
  event?(event: SupervisorEvent<P>): void;
}

/**
 * Restarts processes that exit unexpectedly, with crash-loop backoff, the way
 * an orchestrator does: a deliberate start or stop (a rollout step, a test's
 * stopProcess) always wins over a pending or running restart.
 */
export class ProcessSupervisor<P extends Supervised> {
  constructor(
    readonly policy: RestartPolicy | undefined,
    private readonly hooks: SupervisorHooks<P>,
  ) {}

  /** A deliberate start or stop: a pending restart is cancelled, a running one abandoned. */
  overtake(p: P): void {
    p.intent += 1;
    if (p.restartTimer) clearTimeout(p.restartTimer);
    p.restartTimer = undefined;
    // A deliberate action (a rollout step, an operator) ends the crash-loop story: the next crash counts as the first.
    p.supervision = { ...p.supervision, consecutiveCrashes: 0, nextRestartAtMs: undefined };
  }

  /** The process became ready after a deliberate start. */
  started(p: P): void {
    p.supervision = { ...p.supervision, upSinceMs: Date.now(), nextRestartAtMs: undefined };
  }

  /** After a crash (or a restart that failed): restart after the backoff, unless something deliberate came first. */
  crashed(p: P, reason: string): void {
    const policy = this.policy;
    if (!policy || this.hooks.stopping()) return;
    const { record, delayMs } = recordCrash(p.supervision, policy, reason, Date.now());
    p.supervision = record;
    const intent = p.intent;
    p.restartTimer = setTimeout(() => void this.restart(p, intent), delayMs);
    this.hooks.event?.({ type: "exited", process: p, reason, delayMs, crashLooping: isCrashLooping(record, policy) });
    this.hooks.changed(p);
  }

  private async restart(p: P, intent: number): Promise<void> {
    p.restartTimer = undefined;
    if (this.hooks.stopping() || p.intent !== intent || p.child) return;
    p.supervision = { ...p.supervision, nextRestartAtMs: undefined };
    try {
      const launched = this.hooks.launch(p);
      this.hooks.changed(p); // "starting", with the new pid
      await launched;
    } catch (error) {
      if (this.hooks.stopping() || p.intent !== intent) return;
      const reason = (error as Error).message.split("\n")[0] ?? "failed to start";
      return this.crashed(p, `restart failed: ${reason}`);
    }
    if (p.intent !== intent) return;
    const after = p.supervision.consecutiveCrashes;
    p.supervision = recordRestarted(p.supervision, Date.now());
    // p.child was narrowed to undefined above; launch() set it.
    const pid = (p.child as ChildProcess | undefined)?.pid;
    this.hooks.event?.({ type: "restarted", process: p, pid, after });
    this.hooks.changed(p);
  }

  /** The platform stops: no pending restart fires any more. */
  cancelAll(processes: readonly P[]): void {
    for (const p of processes) {
      if (p.restartTimer) clearTimeout(p.restartTimer);
      p.restartTimer = undefined;
    }
  }
}
