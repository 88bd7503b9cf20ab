import { RolloutMetrics } from "../../control-plane/src/rollout/rollout-metrics.js";
import { parsePlan, planSteps } from "../../control-plane/src/rollout/rollout-plan.js";
import {
  beginStep,
  newRollout,
  type Rollout,
  stepDeployed,
  stepReady,
} from "../../control-plane/src/rollout/rollout-state.js";

/**
 * The rollout controller's metrics (`cellctl rollout start --metrics-port`) as they are while its first step
 * bakes: the real state machine (plan, steps, transitions) fed to the real RolloutMetrics, without a driver
 * restarting processes beside the Prometheus test (the rollout e2e tests drive real ones).
 */
export function bakingRolloutMetrics(cells: ReadonlyMap<string, readonly string[]>): RolloutMetrics {
  const metrics = new RolloutMetrics();
  const parsed = parsePlan({ version: "v2" }, cells);
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  const now = Date.now();
  let rollout: Rollout = newRollout({
    rolloutId: "ro-prometheus-test",
    driver: "local",
    plan: parsed.plan,
    steps: planSteps(parsed.plan, cells),
    startedBy: "prometheus-test",
    nowMs: now,
  });
  metrics.onEvent(rollout.events[0] as Rollout["events"][number], rollout);
  for (const transition of [
    (r: Rollout) => beginStep(r, r.steps[0] as Rollout["steps"][number], "dev", now),
    (r: Rollout) => stepDeployed(r, r.steps[0] as Rollout["steps"][number], now),
    (r: Rollout) => stepReady(r, r.steps[0] as Rollout["steps"][number], now),
  ]) {
    const next = transition(rollout);
    if (!next.ok) throw new Error(next.refusal);
    rollout = next.rollout;
    metrics.onEvent(rollout.events.at(-1) as Rollout["events"][number], rollout);
  }
  metrics.onReading(rollout.steps[0] as Rollout["steps"][number], {
    targetErrorRatePercent: 0,
    baselineErrorRatePercent: 0,
    targetP99Ms: 12,
    baselineP99Ms: 11,
  });
  return metrics;
}
