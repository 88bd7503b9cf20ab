import { type RunOutcome, type RunRolloutDeps, runRollout } from "./run-rollout.js";

/**
 * Drives a rollout in this process until it is terminal, paused or at a gate. Another controller's lease
 * is waited out once (a controller that crashed is replaced when its heartbeat is older than the lease);
 * a live controller still holding it after that is a refusal.
 */
export async function driveRollout(
  deps: RunRolloutDeps,
  rolloutId: string,
  onWait: (refusal: string) => void = () => undefined,
): Promise<RunOutcome> {
  const deadline = Date.now() + deps.leaseMs + 2_000;
  for (;;) {
    const outcome = await runRollout(deps, rolloutId);
    if (outcome.kind !== "refused" || !/another controller/.test(outcome.refusal) || Date.now() >= deadline) {
      return outcome;
    }
    onWait(outcome.refusal);
    await new Promise((r) => setTimeout(r, Math.min(1000, deps.leaseMs / 2)));
  }
}
