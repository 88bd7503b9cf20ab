import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  openPlacementStore,
  type PlacementStore,
  type PlacementStoreConfig,
  placementStoreConfigFromEnv,
} from "@cellwallet/placement";
import { makeDirectory } from "@cellwallet/store-support/fs";
import { DEFAULT_RESTART_POLICY } from "./crash-backoff.js";
import { takeIntendedKill } from "./intended-kills.js";
import { launchError } from "./launch-error.js";
import { launcherStatusPath, writeLauncherStatus } from "./launcher-status.js";
import { DEFAULT_LIVENESS, LivenessProber } from "./liveness.js";
import type { LocalPlatformOptions } from "./local-platform-options.js";
import {
  DEFAULT_LOCAL_VERSION,
  type DesiredState,
  LocalPlatformState,
  localPlatformStatePath,
  type ObservedProcess,
} from "./local-platform-state.js";
import { ensureLocalControlTables, registerLocalCells } from "./local-registry.js";
import { cellProcesses, type ManagedProcess, routerProcesses } from "./managed-process.js";
import { ProcessSupervisor, type SupervisorEvent } from "./process-supervisor.js";
import { spawnLaunch } from "./spawn-launch.js";
import { supervisionStatus } from "./supervision-status.js";
import { waitReady } from "./wait-ready.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const CELL_ENTRY = resolve(root, "cell-service/dist/main.js");
const ROUTER_ENTRY = resolve(root, "cell-router/dist/main.js");

export { type LauncherProcessStatus, launcherStatusPath, readLauncherStatus } from "./launcher-status.js";
export { type LocalPlatformOptions, localPlatformOptionsFromEnv } from "./local-platform-options.js";
export type { ManagedProcess } from "./managed-process.js";

/**
 * The platform on one machine: every cell in every AZ as its own process (the
 * AZ replicas of a cell share the cell's store), one router per AZ, and the
 * control plane's placement registry. Used by `npm start` and by the end-to-end
 * tests, which kill and restart its processes.
 */
export class LocalPlatform {
  readonly processes: ManagedProcess[] = [];
  readonly cellIds: string[];
  private stopping = false;
  private state?: LocalPlatformState;
  private appliedGeneration = 0;
  private reconciling?: Promise<void>;
  private reconcileTimer?: NodeJS.Timeout;
  onReconcileError?: (error: Error) => void;
  onUnexpectedExit?: (p: ManagedProcess, code: number | null, signal: NodeJS.Signals | null) => void;
  onSupervisorEvent?: (event: SupervisorEvent<ManagedProcess>) => void;
  /** A hung process was killed by the liveness probe (its supervisor restarts it). */
  onLivenessKill?: (p: ManagedProcess, reason: string) => void;
  /** A process killed on purpose by another command (announced, e.g. a backup restore): restarted at once. */
  onIntendedKill?: (p: ManagedProcess, reason: string) => void;
  private readonly supervisor: ProcessSupervisor<ManagedProcess>;
  private liveness?: LivenessProber<ManagedProcess>;

  constructor(readonly options: LocalPlatformOptions) {
    this.cellIds = [];
    this.supervisor = new ProcessSupervisor<ManagedProcess>(
      options.restart === false ? undefined : { ...DEFAULT_RESTART_POLICY, ...options.restart },
      {
        launch: (p) => this.launch(p),
        stopping: () => this.stopping,
        changed: () => {
          try {
            this.state?.report(this.appliedGeneration, this.observedProcesses());
          } catch {
            // busy: the next reconcile pass reports
          }
          this.publishStatus();
        },
        event: (event) => this.onSupervisorEvent?.(event),
      },
    );
    this.processes.push(...routerProcesses(options, { ...this.sharedEnv, PLACEMENT_SQLITE_PATH: this.placementPath }));
    for (let i = 0; i < options.cells; i++) this.addCellProcesses(`cell-${i + 1}`, i);
  }

  private get sharedEnv(): Record<string, string> {
    return { WALLET_DATA_DIR: this.options.dataDir, TRUSTED_PROXIES: "127.0.0.1", ...this.options.env };
  }

  /** One process per AZ for a cell; cell `ordinal` listens on cellBasePort + 10 * ordinal + AZ index. */
  private addCellProcesses(cellId: string, ordinal: number): void {
    if (this.cellIds.includes(cellId)) return;
    this.cellIds.push(cellId);
    this.processes.push(...cellProcesses(this.options, cellId, ordinal, this.sharedEnv));
  }

  cellUrl(cellId: string, az: string): string {
    return `http://127.0.0.1:${this.find(`${cellId}/${az}`).port}`;
  }

  get placementPath(): string {
    return resolve(this.options.dataDir, "control-plane", "placement.sqlite");
  }

  routerUrl(az = this.options.azs[0]): string {
    const router = this.processes.find((p) => p.kind === "router" && p.az === az);
    if (!router) throw new Error(`no router in ${az}`);
    return `http://127.0.0.1:${router.port}`;
  }

  find(name: string): ManagedProcess {
    const found = this.processes.find((p) => p.name === name);
    if (!found) throw new Error(`no process ${name}`);
    return found;
  }

  private setting(name: string): string | undefined {
    return this.options.env?.[name] ?? process.env[name];
  }

  /**
   * The registry the routers read, from the environment they get (read by the same function): this data
   * dir's SQLite file by default, DynamoDB with PLACEMENT_STORE=dynamodb.
   */
  private get placementStoreConfig(): PlacementStoreConfig {
    return placementStoreConfigFromEnv({
      ...process.env,
      ...this.sharedEnv,
      PLACEMENT_SQLITE_PATH: this.placementPath,
    });
  }

  openPlacementStore(): PlacementStore {
    return openPlacementStore(this.placementStoreConfig);
  }

  /** The declared state shared with cellctl (versions, cells, the version of every cell process). */
  get statePath(): string {
    return localPlatformStatePath(this.options.dataDir);
  }

  /**
   * Declares the configured cells on a fresh data dir (a data dir keeps the
   * cells and versions declared since), registers every declared cell
   * (idempotent: endpoints refreshed, user counts kept), starts cells, then
   * routers, then reconciles declared changes until stop().
   */
  async start(): Promise<void> {
    makeDirectory(resolve(this.options.dataDir, "control-plane"));
    await ensureLocalControlTables(this.placementStoreConfig, {
      accessKeyId: this.setting("AWS_ACCESS_KEY_ID") ?? "test",
      secretAccessKey: this.setting("AWS_SECRET_ACCESS_KEY") ?? "test",
    });
    const state = new LocalPlatformState(this.statePath);
    this.state = state;
    state.registerVersion({ name: DEFAULT_LOCAL_VERSION, entry: CELL_ENTRY });
    state.seed(
      Array.from({ length: this.options.cells }, (_, i) => `cell-${i + 1}`),
      this.options.azs,
      DEFAULT_LOCAL_VERSION,
    );
    const desired = state.desired();
    this.adopt(desired);
    await this.registerCells(desired.cells.map((c) => c.cellId));
    const cells = this.processes.filter((p) => p.kind === "cell");
    const routers = this.processes.filter((p) => p.kind === "router");
    for (const group of [cells, routers]) {
      // Every start of the group runs to its end before a failure is reported: a platform that cannot start
      // (a port taken, a bad configuration) leaves nothing running to hold its ports and files.
      const failed = (await Promise.allSettled(group.map((p) => this.startProcess(p)))).find(
        (r): r is PromiseRejectedResult => r.status === "rejected",
      );
      if (failed) {
        await this.stop().catch(() => undefined);
        throw failed.reason;
      }
    }
    this.appliedGeneration = desired.generation;
    state.report(this.appliedGeneration, this.observedProcesses());
    this.publishStatus();
    if (this.options.liveness !== false) {
      const policy = { ...DEFAULT_LIVENESS, ...this.options.liveness };
      this.liveness = new LivenessProber(
        policy,
        () => this.processes,
        (p, why) => {
          p.hungPid = p.child?.pid;
          this.onLivenessKill?.(p, why);
        },
      );
      this.liveness.start();
    }
    this.reconcileTimer = setInterval(() => {
      // The heartbeat says "a launcher is applying declarations", also while a long pass restarts processes.
      if (this.reconciling) {
        try {
          this.state?.heartbeat();
        } catch {
          // busy: the next tick beats
        }
        return;
      }
      // A failed pass (e.g. the state file busy) is retried at the next tick; the writer waits for it.
      this.reconciling ??= this.reconcile()
        .catch((error: Error) => this.onReconcileError?.(error))
        .finally(() => {
          this.reconciling = undefined;
        });
    }, this.options.reconcileIntervalMs ?? 200);
  }

  /** Processes for declared cells this launcher does not have yet, and the declared version of each. */
  private adopt(desired: DesiredState): void {
    for (const cell of desired.cells) {
      this.addCellProcesses(cell.cellId, cell.ordinal);
      for (const p of this.processes) {
        if (p.cellId === cell.cellId && p.version === undefined) p.version = cell.versions[p.az];
      }
    }
  }

  private async registerCells(cellIds: readonly string[]): Promise<void> {
    const store = this.openPlacementStore();
    try {
      const cells = cellIds.map((cellId) => ({
        cellId,
        endpoints: this.options.azs.map((az) => ({ az, url: this.cellUrl(cellId, az) })),
      }));
      await registerLocalCells(store, cells, this.options.capacity);
    } finally {
      await store.close();
    }
  }

  /**
   * One pass of the supervisor: when the declared generation moved, start the
   * processes of new cells and restart every cell process whose declared
   * version differs from the one it runs (one at a time), then report what
   * runs. A version that fails to start is reported failed, not retried.
   */
  private async reconcile(): Promise<void> {
    const state = this.state;
    if (!state || this.stopping) return;
    const desired = state.desired();
    if (desired.generation <= this.appliedGeneration) {
      state.heartbeat();
      return;
    }
    for (const cell of desired.cells) {
      this.addCellProcesses(cell.cellId, cell.ordinal);
      for (const [az, version] of Object.entries(cell.versions)) {
        const p = this.processes.find((q) => q.cellId === cell.cellId && q.az === az);
        if (!p || this.stopping) continue;
        // Same version and already started once (running, failed or stopped on purpose): nothing declared changed.
        if (p.version === version && p.startedOnce) continue;
        await this.stopProcess(p);
        p.version = version;
        try {
          await this.startProcess(p);
        } catch (error) {
          p.error = (error as Error).message;
          await this.stopProcess(p, "SIGKILL");
        }
        state.report(this.appliedGeneration, this.observedProcesses());
      }
    }
    this.appliedGeneration = desired.generation;
    state.report(this.appliedGeneration, this.observedProcesses());
    this.publishStatus();
  }

  observedProcesses(): ObservedProcess[] {
    return this.processes
      .filter((p) => p.kind === "cell")
      .map((p) => ({
        cellId: p.cellId as string,
        az: p.az,
        version: p.version ?? DEFAULT_LOCAL_VERSION,
        port: p.port,
        ...(p.child?.pid ? { pid: p.child.pid } : {}),
        status: p.child ? ("running" as const) : p.error ? ("failed" as const) : ("stopped" as const),
        ...(p.error ? { error: p.error } : {}),
      }));
  }

  /** Starts (or restarts) one process on purpose and waits until it is ready; a pending restart is dropped. */
  async startProcess(p: ManagedProcess): Promise<void> {
    this.supervisor.overtake(p);
    await this.launch(p);
    this.supervisor.started(p);
    this.publishStatus();
  }

  private async launch(p: ManagedProcess): Promise<void> {
    let entry = ROUTER_ENTRY;
    const env: Record<string, string> = { ...p.env };
    if (p.kind === "cell") {
      const version = p.version ?? DEFAULT_LOCAL_VERSION;
      const named = version === DEFAULT_LOCAL_VERSION ? { entry: CELL_ENTRY } : this.state?.version(version);
      if (!named) throw new Error(`unknown version ${version}: register it with cellctl versions add`);
      entry = named.entry;
      env.CELL_VERSION = version;
    }
    p.error = undefined;
    p.startedOnce = true;
    const { child, instance, output } = spawnLaunch(entry, env, this.options.stdio ?? "inherit");
    p.instance = instance;
    p.child = child;
    let ready = false;
    child.on("exit", (code, signal) => {
      // stopProcess() detaches the child before stopping it: only an exit nobody asked for is unexpected.
      // A process that never became ready is startProcess's failure (it rejects), not an unexpected exit.
      const unexpected = p.child === child;
      if (unexpected) p.child = undefined;
      if (unexpected && ready && !this.stopping) {
        // Announced by the command that killed it (a restore): a deliberate restart, not a crash to count.
        const intended = child.pid === undefined ? undefined : takeIntendedKill(this.options.dataDir, child.pid);
        if (intended !== undefined) {
          this.onIntendedKill?.(p, intended);
          void this.startProcess(p).catch((error: Error) =>
            this.supervisor.crashed(p, `restart failed: ${error.message.split("\n")[0]}`),
          );
          return;
        }
        this.onUnexpectedExit?.(p, code, signal);
        // What `cellctl cells describe` shows as the last exit: a hang the probe ended is not a crash of its own.
        const hung = p.hungPid !== undefined && p.hungPid === child.pid;
        this.supervisor.crashed(p, hung ? "hung: killed by the liveness probe" : (signal ?? `exit code ${code}`));
      }
    });
    try {
      await waitReady({ url: `http://127.0.0.1:${p.port}/ready`, child, instance, output });
    } catch (error) {
      // Never leave a process that did not become ready behind (it would hold the slot the next start needs).
      if (p.child === child) p.child = undefined;
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      throw launchError(p, error as Error);
    }
    ready = true;
    p.readyPid = child.pid;
  }

  /** Stops one process on purpose (never restarted): SIGTERM drains it, SIGKILL simulates a crash. */
  async stopProcess(p: ManagedProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    this.supervisor.overtake(p);
    const child = p.child;
    // Ended by a signal, a child has signalCode set and exitCode null: it has exited all the same.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    p.child = undefined;
    await new Promise<void>((done) => {
      child.once("exit", () => done());
      child.kill(signal);
    });
  }

  private publishStatus(): void {
    if (!this.state) return;
    try {
      writeLauncherStatus(launcherStatusPath(this.options.dataDir), {
        launcherPid: process.pid,
        updatedAt: new Date().toISOString(),
        processes: supervisionStatus(this.processes, this.supervisor.policy),
      });
    } catch {
      // a status file that cannot be written must not stop the supervisor
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.liveness?.stop();
    this.supervisor.cancelAll(this.processes);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    await this.reconciling;
    const order = [
      ...this.processes.filter((p) => p.kind === "router"),
      ...this.processes.filter((p) => p.kind === "cell"),
    ];
    const kill = setTimeout(() => {
      for (const p of order) p.child?.kill("SIGKILL");
    }, 8000);
    await Promise.all(order.map((p) => this.stopProcess(p)));
    clearTimeout(kill);
    this.publishStatus();
    this.state?.close();
    this.state = undefined;
  }
}
