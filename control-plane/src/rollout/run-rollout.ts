import { withSpan } from "@cellwallet/telemetry";
import { CANARY_FAILURES_ALARM } from "../canary/canary-alarm.js";
import { type AlarmState, baselineDelta, evaluateAlarms, SampleWindow } from "./alarm-evaluation.js";
import { counterDelta, type ReplicaCounters } from "./replica-metrics.js";
import type { RolloutDriver } from "./rollout-driver.js";
import {
  applyAbortBetweenSteps,
  applyPause,
  beginRollback,
  beginStep,
  claimController,
  currentStep,
  isTerminal,
  type Rollout,
  type RolloutEvent,
  type RolloutStep,
  releaseController,
  restartBake,
  rollbackDone,
  stepBaked,
  stepDeployed,
  stepReady,
  type Transition,
} from "./rollout-state.js";
import { type RolloutStore, updateRollout } from "./rollout-store.js";

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

class LostControl extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
  const now = deps.now ?? Date.now;
  // Steps whose bake this controller started itself; any other baking step is re-baked from the start.
  const bakedHere = new Set<number>();
  let seen = 0;
  const publish = (r: Rollout) => {
    for (const event of r.events.slice(seen)) deps.onEvent?.(event, r);
    seen = r.events.length;
  };

  const claimed = await updateRollout(deps.store, rolloutId, (r) =>
    isTerminal(r)
      ? { ok: false, refusal: `rollout ${rolloutId} is already ${r.status}` }
      : claimController(r, deps.owner, now(), deps.leaseMs),
  );
  if (!claimed.ok) return { kind: "refused", refusal: claimed.refusal };
  seen = claimed.rollout.events.length;

  /** A conditional write by this controller; fails with LostControl if another one took over. */
  const write = async (change: (r: Rollout) => Transition | Rollout, release = false): Promise<Rollout> => {
    const result = await updateRollout(deps.store, rolloutId, (r) => {
      if (r.controller?.owner !== deps.owner) return { ok: false, refusal: "lost" };
      const t = change(r);
      const next = "ok" in t ? t : ({ ok: true, rollout: t } as const);
      if (!next.ok) return next;
      if (release) return next;
      return {
        ok: true,
        rollout: { ...next.rollout, controller: { owner: deps.owner, heartbeatAt: new Date(now()).toISOString() } },
      };
    });
    if (!result.ok) {
      if (result.refusal === "lost") throw new LostControl(`another controller took over rollout ${rolloutId}`);
      throw new Error(`rollout ${rolloutId}: ${result.refusal}`);
    }
    publish(result.rollout);
    return result.rollout;
  };
  const read = async (): Promise<Rollout> => {
    const r = await deps.store.get(rolloutId);
    if (!r) throw new Error(`rollout ${rolloutId} vanished`);
    if (r.controller?.owner !== deps.owner) throw new LostControl(`another controller took over rollout ${rolloutId}`);
    return r;
  };
  const heartbeat = setInterval(
    () => {
      write((r) => r).catch(() => undefined);
    },
    Math.max(200, Math.floor(deps.leaseMs / 3)),
  );

  const urlOf = async (step: Pick<RolloutStep, "cellId" | "az">) =>
    (await deps.replicas(step.cellId)).find((e) => e.az === step.az)?.url;

  /** Polls /ready until the target reports ready on `version`; checks for an abort while waiting. */
  const waitReady = async (
    step: RolloutStep,
    version: string,
    watchAbort: boolean,
  ): Promise<"ready" | "aborted" | string> => {
    const deadline = now() + (await read()).plan.readyTimeoutMs;
    let last = "no answer";
    for (;;) {
      const url = await urlOf(step);
      if (url) {
        const r = await deps.probe.ready(url);
        if (r.ready && r.version === version) return "ready";
        last = r.ready ? `ready but on ${r.version ?? "an unknown version"}` : "not ready";
      } else {
        last = "no endpoint in the registry";
      }
      if (watchAbort && (await read()).intent === "abort") return "aborted";
      if (now() > deadline) return `not ready on ${version} in time (${last})`;
      await sleep(100);
    }
  };

  /** Bakes the step: scrapes target and baseline until min time and min requests, or an alarm, or an abort. */
  const bake = async (
    start: Rollout,
    step: RolloutStep,
  ): Promise<{ fired?: string; aborted?: boolean; detail?: string }> => {
    const { plan } = start;
    const targetUrl = await urlOf(step);
    if (!targetUrl) return { fired: "the target has no endpoint in the registry" };
    const baselineUrls = await baselineReplicas(start, step);
    const target = new SampleWindow();
    const baselines = baselineUrls.map(() => new SampleWindow());
    let firstTarget: ReplicaCounters | undefined;
    let state: AlarmState = {};
    let canaryAtStart: number | undefined;
    const bakeStarted = Date.parse(step.bakeStartedAt ?? new Date(now()).toISOString());
    for (;;) {
      const at = now();
      const [ready, counters, ...base] = await Promise.all([
        deps.probe.ready(targetUrl),
        deps.probe.metrics(targetUrl),
        ...baselineUrls.map((u) => deps.probe.metrics(u)),
      ]);
      if (counters) {
        firstTarget ??= counters;
        target.add(at, counters, plan.alarms.windowMs);
      }
      base.forEach((c, i) => {
        if (c) baselines[i]?.add(at, c, plan.alarms.windowMs);
      });
      const verdict = evaluateAlarms(
        state,
        {
          nowMs: at,
          targetReady: ready.ready && ready.version === plan.version,
          target: target.windowDelta() ?? { requests: 0, errors: 0, buckets: [] },
          ...(baselines.length > 0 ? { baseline: baselineDelta(baselines) } : {}),
        },
        plan.alarms,
      );
      state = verdict.state;
      deps.onReading?.(step, { ...verdict.reading });
      if (verdict.fired) return { fired: verdict.fired };
      const canaryFailed = await deps.canaryFailures?.(step.cellId);
      if (canaryFailed !== undefined) {
        canaryAtStart ??= canaryFailed;
        if (canaryFailed - canaryAtStart >= CANARY_FAILURES_ALARM) {
          return { fired: `canary: ${canaryFailed - canaryAtStart} journeys failed in ${step.cellId} during the bake` };
        }
      }
      const served = counters && firstTarget ? counterDelta(firstTarget, counters).requests : 0;
      const current = await write((r) => r); // heartbeat, and the latest intents
      if (current.intent === "abort") return { aborted: true };
      if (at - bakeStarted >= plan.bake.minMs && served >= plan.bake.minRequests) {
        const r = verdict.reading;
        return {
          detail: `${served} requests in ${Math.round((at - bakeStarted) / 1000)}s; error rate ${r.targetErrorRatePercent ?? "-"}% vs ${r.baselineErrorRatePercent ?? "-"}%; p99 ${r.targetP99Ms ?? "-"} ms vs ${r.baselineP99Ms ?? "-"} ms`,
        };
      }
      await sleep(plan.scrapeIntervalMs);
    }
  };

  /** The same cell's AZs still on the old version; else other cells' replicas of the same AZ; else none. */
  const baselineReplicas = async (r: Rollout, step: RolloutStep): Promise<string[]> => {
    const pending = r.steps.filter((s) => s.phase === "pending" && s.index !== step.index);
    const sameCell = pending.filter((s) => s.cellId === step.cellId);
    const chosen = sameCell.length > 0 ? sameCell : pending.filter((s) => s.az === step.az);
    const urls = await Promise.all(chosen.map((s) => urlOf(s)));
    return urls.filter((u): u is string => u !== undefined);
  };

  const rollback = (step: RolloutStep): Promise<Rollout> =>
    withSpan(
      "rollout rollback",
      { "cell.id": step.cellId, az: step.az, "cellwallet.rollout_step": step.index + 1 },
      () => rollbackStep(step),
    );
  const rollbackStep = async (step: RolloutStep): Promise<Rollout> => {
    const previous = step.previousVersion;
    const target = { cellId: step.cellId, az: step.az };
    if (previous) {
      await deps.audit("rollout.step.rollback", `${step.cellId}/${step.az}`, {
        rolloutId,
        step: step.index + 1,
        to: previous,
        reason: step.reason,
      });
      await deps.driver.deploy(target, previous);
      const ready = await waitReady(step, previous, false);
      if (ready !== "ready") throw new Error(`rollback of ${step.cellId}/${step.az} to ${previous}: ${ready}`);
    }
    return write((r) => rollbackDone(r, step, now()));
  };

  try {
    for (;;) {
      let r = await read();
      if (isTerminal(r)) return { kind: "finished", rollout: r };
      const step = currentStep(r);
      if (r.intent === "abort") {
        if (step && step.phase !== "pending") {
          r =
            step.phase === "rolling-back"
              ? r
              : await write((x) => beginRollback(x, step, x.reason ?? "aborted", now()));
          const rolling = currentStep(r) as RolloutStep;
          r = await rollback(rolling);
        } else {
          r = await write((x) => applyAbortBetweenSteps(x, now()));
        }
        continue;
      }
      if (r.status === "paused" || r.status === "waiting-gate") {
        r = await write((x) => releaseController(x, deps.owner), true);
        return { kind: "stopped", rollout: r };
      }
      if (!step) throw new Error(`rollout ${rolloutId} is ${r.status} with no step left`);
      const target = { cellId: step.cellId, az: step.az };
      switch (step.phase) {
        case "pending": {
          if (r.intent === "pause") {
            await write((x) => applyPause(x, now()));
            break;
          }
          const previous = (await deps.driver.currentVersion(target)) ?? "unknown";
          await write((x) => beginStep(x, step, previous, now()));
          break;
        }
        case "deploying": {
          await deps.audit("rollout.step.deploy", `${step.cellId}/${step.az}`, {
            rolloutId,
            step: step.index + 1,
            version: r.plan.version,
            from: step.previousVersion,
            driver: deps.driver.name,
          });
          try {
            await withSpan(
              "rollout deploy",
              { "cell.id": step.cellId, az: step.az, "cellwallet.rollout_step": step.index + 1 },
              () => deps.driver.deploy(target, r.plan.version),
            );
          } catch (error) {
            await write((x) => beginRollback(x, step, `deploy failed: ${(error as Error).message}`, now()));
            break;
          }
          await write((x) => stepDeployed(x, step, now()));
          break;
        }
        case "waiting-ready": {
          const ready = await withSpan(
            "rollout wait-ready",
            { "cell.id": step.cellId, az: step.az, "cellwallet.rollout_step": step.index + 1 },
            () => waitReady(step, r.plan.version, true),
          );
          if (ready === "aborted") break;
          await write((x) => (ready === "ready" ? stepReady(x, step, now()) : beginRollback(x, step, ready, now())));
          bakedHere.add(step.index);
          break;
        }
        case "baking": {
          // A resumed controller has no samples of the bake so far: it bakes again from the start.
          const fresh = bakedHere.has(step.index) ? r : await write((x) => restartBake(x, step, now()));
          bakedHere.add(step.index);
          const bakingStep = currentStep(fresh) as RolloutStep;
          const outcome = await withSpan(
            "rollout bake",
            { "cell.id": bakingStep.cellId, az: bakingStep.az, "cellwallet.rollout_step": bakingStep.index + 1 },
            () => bake(fresh, bakingStep),
          );
          if (outcome.aborted) break;
          if (outcome.fired) {
            await write((x) => beginRollback(x, bakingStep, `alarm: ${outcome.fired}`, now()));
            break;
          }
          await write((x) => {
            const baked = stepBaked(x, bakingStep, now(), outcome.detail);
            return baked.ok ? { ok: true, rollout: applyPause(baked.rollout, now()) } : baked;
          });
          break;
        }
        case "rolling-back":
          await rollback(step);
          break;
        default:
          throw new Error(`step ${step.index + 1} is ${step.phase}`);
      }
    }
  } catch (error) {
    if (error instanceof LostControl) return { kind: "refused", refusal: error.message };
    throw error;
  } finally {
    clearInterval(heartbeat);
  }
}
