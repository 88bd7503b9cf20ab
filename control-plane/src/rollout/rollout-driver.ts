/**
 * Where a rollout puts a version: one cell's replicas in one AZ at a time. Two
 * implementations: `local` (restarts the local platform's cell processes of that
 * AZ on a named build) and `kubernetes` (applies the cdk8s-synthesized
 * Deployment of that cell and AZ through the Kubernetes API). Readiness, baking
 * and alarms are the controller's job, not the driver's; rolling back is
 * `deploy(target, previousVersion)`, which needs no new build.
 */
export interface RolloutTarget {
  cellId: string;
  az: string;
}

export interface RolloutDriver {
  readonly name: "local" | "kubernetes";
  /** The version the target runs now, as the driver knows it; undefined when it cannot tell. */
  currentVersion(target: RolloutTarget): Promise<string | undefined>;
  /**
   * Why `version` cannot be deployed by this driver at all (e.g. a build the local platform does not know),
   * or undefined when it can: a plan naming it is refused before anything starts.
   */
  refuseVersion?(version: string): string | undefined;
  /** Exactly what `deploy` would change, for a human (dry run); changes nothing. */
  describeChange(target: RolloutTarget, version: string): Promise<string>;
  /** Puts `version` on the target and resolves once the change is applied (not necessarily ready). */
  deploy(target: RolloutTarget, version: string): Promise<void>;
}
