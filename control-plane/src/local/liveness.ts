import type { ChildProcess } from "node:child_process";

/**
 * The local launcher's liveness probe, as Kubernetes runs the manifests' (infra/cdk8s/src/workload.ts): a
 * process that became ready and then stops answering GET /health for `failureThreshold` probes in a row (an
 * event loop stuck in a loop or a deadlock, a process stopped with SIGSTOP) is hung, not slow: the launcher
 * kills it (SIGKILL) and its supervisor restarts it like any crash. Without this a hung cell replica would stay
 * out of service until someone noticed.
 */
export interface LivenessPolicy {
  periodMs: number;
  /** One probe's timeout (bounded by the period). */
  timeoutMs: number;
  failureThreshold: number;
}

/** The manifests' livenessProbe: every 10 s, 2 s timeout, 3 failures. */
export const DEFAULT_LIVENESS: LivenessPolicy = { periodMs: 10_000, timeoutMs: 2_000, failureThreshold: 3 };

export interface Probed {
  name: string;
  port: number;
  child?: ChildProcess;
  /** The pid of the process once it became ready: one still starting is judged by the launcher's readiness wait. */
  readyPid?: number;
}

interface Record {
  pid: number;
  failures: number;
}

export class LivenessProber<P extends Probed> {
  private timer?: NodeJS.Timeout;
  private readonly seen = new Map<P, Record>();
  private probing = false;

  constructor(
    private readonly policy: LivenessPolicy,
    private readonly processes: () => readonly P[],
    /** The process was killed for not answering: say so (the supervisor restarts it). */
    private readonly onKilled: (p: P, reason: string) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.probeAll(), this.policy.periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One round: every running process probed in parallel; a round still running is not started again. */
  async probeAll(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await Promise.all(this.processes().map((p) => this.probe(p)));
    } finally {
      this.probing = false;
    }
  }

  private async probe(p: P): Promise<void> {
    const child = p.child;
    const pid = child?.pid;
    if (child === undefined || pid === undefined || child.exitCode !== null || child.signalCode !== null) {
      this.seen.delete(p);
      return;
    }
    if (p.readyPid !== pid) return;
    let record = this.seen.get(p);
    // A new process (restarted, or deliberately replaced by a rollout step) starts with a clean record.
    if (record?.pid !== pid) {
      record = { pid, failures: 0 };
      this.seen.set(p, record);
    }
    const ok = await fetch(`http://127.0.0.1:${p.port}/health`, {
      signal: AbortSignal.timeout(Math.min(this.policy.timeoutMs, this.policy.periodMs)),
    })
      .then(async (res) => {
        await res.body?.cancel();
        return res.ok;
      })
      .catch(() => false);
    // The process may have been replaced while the probe ran: its answer says nothing about the new one.
    if (p.child !== child) return;
    if (ok) {
      record.failures = 0;
      return;
    }
    record.failures += 1;
    if (record.failures < this.policy.failureThreshold) return;
    this.seen.delete(p);
    const reason = `no answer to /health for ${record.failures} probes in a row (every ${this.policy.periodMs} ms)`;
    child.kill("SIGKILL");
    this.onKilled(p, reason);
  }
}
