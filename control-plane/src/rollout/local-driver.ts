import type { LocalPlatformState } from "../local/local-platform-state.js";
import type { RolloutDriver, RolloutTarget } from "./rollout-driver.js";

export interface LocalDriverOptions {
  state: LocalPlatformState;
  /** How long to wait for the launcher to apply a declaration (ms). */
  applyTimeoutMs?: number;
  pollMs?: number;
  /** A launcher heartbeat older than this means no launcher runs (ms). */
  staleAfterMs?: number;
}

/**
 * The local driver: declares the version of one cell process of one AZ in the
 * local platform's state and waits until the launcher (`npm start`) reports it
 * restarted that process on it. A version is any build registered with
 * `cellctl versions add`; the repository's own build is `dev`.
 */
export class LocalDriver implements RolloutDriver {
  readonly name = "local" as const;

  constructor(private readonly options: LocalDriverOptions) {}

  private get state(): LocalPlatformState {
    return this.options.state;
  }

  async currentVersion(target: RolloutTarget): Promise<string | undefined> {
    const observed = this.state.observed().processes.find((p) => p.cellId === target.cellId && p.az === target.az);
    return observed?.version ?? this.desiredVersion(target);
  }

  private desiredVersion(target: RolloutTarget): string | undefined {
    return this.state.desired().cells.find((c) => c.cellId === target.cellId)?.versions[target.az];
  }

  refuseVersion(version: string): string | undefined {
    return this.state.version(version)
      ? undefined
      : `unknown version ${version}: register it with cellctl versions add`;
  }

  async describeChange(target: RolloutTarget, version: string): Promise<string> {
    const named = this.state.version(version);
    const observed = this.state.observed().processes.find((p) => p.cellId === target.cellId && p.az === target.az);
    const now = observed
      ? `runs ${observed.version} (${observed.status}${observed.pid ? `, pid ${observed.pid}` : ""}, port ${observed.port})`
      : "not running";
    const entry = named ? named.entry : "UNKNOWN VERSION: register it with cellctl versions add";
    if (observed?.version === version) return `${target.cellId}/${target.az}: already on ${version}; ${now}`;
    return `${target.cellId}/${target.az}: restart on ${version} (${entry}); now ${now}`;
  }

  async deploy(target: RolloutTarget, version: string): Promise<void> {
    if (!this.state.version(version))
      throw new Error(`unknown version ${version}: register it with cellctl versions add`);
    assertLauncherRunning(this.state, this.options.staleAfterMs);
    const generation = this.state.setVersion(target.cellId, target.az, version);
    if (generation === undefined) throw new Error(`the local platform has no ${target.cellId}/${target.az}`);
    await waitApplied(this.state, generation, this.options);
    const p = this.state.observed().processes.find((q) => q.cellId === target.cellId && q.az === target.az);
    if (p?.version !== version || p.status !== "running") {
      throw new Error(
        `${target.cellId}/${target.az} did not start on ${version}: ${p?.error ?? p?.status ?? "not reported"}`,
      );
    }
  }
}

/** Refuses to declare a change nobody would apply. */
export function assertLauncherRunning(state: LocalPlatformState, staleAfterMs = 10_000): void {
  if (Date.now() - state.observed().heartbeatMs > staleAfterMs) {
    throw new Error("the local platform is not running (start it with npm start): nothing would apply the change");
  }
}

/** Waits until the launcher reports `generation` applied; fails fast when no launcher heartbeats. */
export async function waitApplied(
  state: LocalPlatformState,
  generation: number,
  options: { applyTimeoutMs?: number; pollMs?: number; staleAfterMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.applyTimeoutMs ?? 120_000);
  for (;;) {
    const observed = state.observed();
    if (observed.appliedGeneration >= generation) return;
    if (Date.now() - observed.heartbeatMs > (options.staleAfterMs ?? 10_000)) {
      throw new Error("the local platform is not running (start it with npm start): nothing applies the change");
    }
    if (Date.now() > deadline) throw new Error(`the local platform did not apply change ${generation} in time`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
  }
}
