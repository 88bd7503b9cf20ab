import type { ReplicaCounters } from "./replica-metrics.js";
import type { RolloutDriver } from "./rollout-driver.js";
import type { Rollout, RolloutEvent, RolloutStep } from "./rollout-state.js";
import type { RolloutStore } from "./rollout-store.js";

/** What the controller needs to see of a replica: its /ready (and the version it reports) and its /metrics. */
export interface ReplicaProbe {
  ready(url: string): Promise<{ ready: boolean; version?: string }>;
  metrics(url: string): Promise<ReplicaCounters | undefined>;
}

/** Where each cell's replica of each AZ answers (the placement registry's endpoints). */
export type ReplicaDirectory = (cellId: string) => Promise<Array<{ az: string; url: string }>>;

export interface RunRolloutDeps {
  store: RolloutStore;
  driver: RolloutDriver;
  probe: ReplicaProbe;
  replicas: ReplicaDirectory;
  /** This controller's identity (host/pid), for the one-controller lease. */
  owner: string;
  /** A controller whose heartbeat is older than this may be replaced (ms). */
  leaseMs: number;
  /** Records an action in the operator audit trail before it is applied; throws when it cannot. */
  audit(action: string, target: string, details: Record<string, unknown>): Promise<void>;
  /** Every event the controller persisted, in order (progress output, metrics). */
  onEvent?(event: RolloutEvent, rollout: Rollout): void;
  /** Alarm readings while baking (metrics). */
  onReading?(step: RolloutStep, reading: Record<string, number | undefined>): void;
  /**
   * Cumulative failed canary journeys of a cell (`cellctl canary run`'s metrics), when a canary is watched:
   * CANARY_FAILURES_ALARM more of them during a step's bake roll the step back. Undefined: no reading.
   */
  canaryFailures?(cellId: string): Promise<number | undefined>;
  now?(): number;
}

export type RunOutcome =
  | { kind: "finished"; rollout: Rollout }
  | { kind: "stopped"; rollout: Rollout }
  | { kind: "refused"; refusal: string };
