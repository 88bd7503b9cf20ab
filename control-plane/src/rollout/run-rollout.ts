import { withSpan } from "@cellwallet/telemetry";
import { LostControl, RolloutController } from "./rollout-controller.js";
import type { RunOutcome, RunRolloutDeps } from "./rollout-deps.js";
import {
  applyAbortBetweenSteps,
  applyPause,
  beginRollback,
  beginStep,
  currentStep,
  isTerminal,
  type Rollout,
  type RolloutStep,
  releaseController,
  restartBake,
  stepBaked,
  stepDeployed,
  stepReady,
} from "./rollout-state.js";
import { bakeStep, rollbackStep, waitReady } from "./step-actions.js";

export type { ReplicaDirectory, ReplicaProbe, RunOutcome, RunRolloutDeps } from "./rollout-deps.js";

/**
 * The controller use case: drives one rollout step by step through the driver
 * and persists every phase before acting on it. Deploy → wait for /ready on the
 * new version → bake (minimum time and requests) while comparing the target's
 * /metrics with the baseline → next step. An alarm (or a failed deploy or
 * readiness) rolls the step back to its previous version without baking and
 * ends the rollout. Operators' pause/abort/resume arrive through the store.
 * Returns when the rollout is terminal ("finished") or paused / at a gate ("stopped").
 */
export function runRollout(deps: RunRolloutDeps, rolloutId: string): Promise<RunOutcome> {
  // With tracing on, one trace per controller run, a span per step action (deploy, wait-ready, bake, rollback).
  return withSpan("rollout", { "cellwallet.rollout_id": rolloutId }, () => drive(deps, rolloutId));
}

async function drive(deps: RunRolloutDeps, rolloutId: string): Promise<RunOutcome> {
  const claimed = await RolloutController.claim(deps, rolloutId);
  if (!claimed.ok) return { kind: "refused", refusal: claimed.refusal };
  const c = claimed.controller;
  // Steps whose bake this controller started itself; any other baking step is re-baked from the start.
  const bakedHere = new Set<number>();
  try {
    for (;;) {
      let r = await c.read();
      if (isTerminal(r)) return { kind: "finished", rollout: r };
      const step = currentStep(r);
      if (r.intent === "abort") {
        await abort(c, r, step);
        continue;
      }
      if (r.status === "paused" || r.status === "waiting-gate") {
        r = await c.write((x) => releaseController(x, deps.owner), true);
        return { kind: "stopped", rollout: r };
      }
      if (!step) throw new Error(`rollout ${rolloutId} is ${r.status} with no step left`);
      await advance(c, r, step, bakedHere);
    }
  } catch (error) {
    if (error instanceof LostControl) return { kind: "refused", refusal: error.message };
    throw error;
  } finally {
    c.stop();
  }
}

/** An abort: the step in progress is rolled back; between steps, the rollout just ends. */
async function abort(c: RolloutController, r: Rollout, step: RolloutStep | undefined): Promise<void> {
  if (!step || step.phase === "pending") {
    await c.write((x) => applyAbortBetweenSteps(x, c.now()));
    return;
  }
  const rolling =
    step.phase === "rolling-back" ? r : await c.write((x) => beginRollback(x, step, x.reason ?? "aborted", c.now()));
  await rollbackStep(c, currentStep(rolling) as RolloutStep);
}

const spanOf = (step: RolloutStep) => ({
  "cell.id": step.cellId,
  az: step.az,
  "cellwallet.rollout_step": step.index + 1,
});

/** Takes the current step one phase further (each phase persisted before it is acted on). */
async function advance(c: RolloutController, r: Rollout, step: RolloutStep, bakedHere: Set<number>): Promise<void> {
  const { deps } = c;
  const target = { cellId: step.cellId, az: step.az };
  switch (step.phase) {
    case "pending": {
      if (r.intent === "pause") {
        await c.write((x) => applyPause(x, c.now()));
        return;
      }
      const previous = (await deps.driver.currentVersion(target)) ?? "unknown";
      await c.write((x) => beginStep(x, step, previous, c.now()));
      return;
    }
    case "deploying": {
      await deps.audit("rollout.step.deploy", `${step.cellId}/${step.az}`, {
        rolloutId: c.rolloutId,
        step: step.index + 1,
        version: r.plan.version,
        from: step.previousVersion,
        driver: deps.driver.name,
      });
      try {
        await withSpan("rollout deploy", spanOf(step), () => deps.driver.deploy(target, r.plan.version));
      } catch (error) {
        await c.write((x) => beginRollback(x, step, `deploy failed: ${(error as Error).message}`, c.now()));
        return;
      }
      await c.write((x) => stepDeployed(x, step, c.now()));
      return;
    }
    case "waiting-ready": {
      const ready = await withSpan("rollout wait-ready", spanOf(step), () => waitReady(c, step, r.plan.version, true));
      if (ready === "aborted") return;
      await c.write((x) => (ready === "ready" ? stepReady(x, step, c.now()) : beginRollback(x, step, ready, c.now())));
      bakedHere.add(step.index);
      return;
    }
    case "baking":
      return bake(c, r, step, bakedHere);
    case "rolling-back":
      await rollbackStep(c, step);
      return;
    default:
      throw new Error(`step ${step.index + 1} is ${step.phase}`);
  }
}

async function bake(c: RolloutController, r: Rollout, step: RolloutStep, bakedHere: Set<number>): Promise<void> {
  // A resumed controller has no samples of the bake so far: it bakes again from the start.
  const fresh = bakedHere.has(step.index) ? r : await c.write((x) => restartBake(x, step, c.now()));
  bakedHere.add(step.index);
  const bakingStep = currentStep(fresh) as RolloutStep;
  const outcome = await withSpan("rollout bake", spanOf(bakingStep), () => bakeStep(c, fresh, bakingStep));
  if (outcome.aborted) return;
  if (outcome.fired || outcome.expired) {
    const reason = outcome.fired ? `alarm: ${outcome.fired}` : (outcome.expired as string);
    await c.write((x) => beginRollback(x, bakingStep, reason, c.now()));
    return;
  }
  await c.write((x) => {
    const baked = stepBaked(x, bakingStep, c.now(), outcome.detail);
    return baked.ok ? { ok: true, rollout: applyPause(baked.rollout, c.now()) } : baked;
  });
}
