/**
 * Static stability: a cell must carry its whole load with `tolerateAzLoss` AZs gone, without
 * scaling up at the moment of the failure (the control plane of the cluster may be impaired then).
 * So every AZ runs enough replicas that the surviving AZs alone reach `requiredReplicas`:
 *
 *   perAz = ceil(requiredReplicas / (azCount - tolerateAzLoss))
 *
 * e.g. 6 replicas of load over 3 AZs tolerating 1 loss: 3 per AZ (9 in all, 6 left after a loss).
 */
export interface StaticStabilityRule {
  /** Replicas the cell's peak load needs in total (across AZs). */
  readonly requiredReplicas: number;
  /** AZs the cell runs in. */
  readonly azCount: number;
  /** AZs that may be lost while the load is still carried; default 1. */
  readonly tolerateAzLoss?: number;
  /** Floor per AZ (so a single pod is never alone in an AZ during a rollout); default 2. */
  readonly minPerAz?: number;
}

export function replicasPerAz(rule: StaticStabilityRule): number {
  const { requiredReplicas, azCount } = rule;
  const tolerate = rule.tolerateAzLoss ?? 1;
  const floor = rule.minPerAz ?? 2;
  for (const [name, value] of Object.entries({ requiredReplicas, azCount, tolerateAzLoss: tolerate })) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${value}`);
  }
  if (requiredReplicas < 1) throw new Error("requiredReplicas must be at least 1");
  if (azCount - tolerate < 1) {
    throw new Error(`cannot tolerate the loss of ${tolerate} AZ(s) with only ${azCount}: no AZ would be left`);
  }
  return Math.max(floor, Math.ceil(requiredReplicas / (azCount - tolerate)));
}
