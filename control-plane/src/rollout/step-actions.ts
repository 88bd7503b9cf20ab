import { withSpan } from "@cellwallet/telemetry";
import { CANARY_FAILURES_ALARM } from "../canary/canary-alarm.js";
import { type AlarmState, alarmPending, baselineDelta, evaluateAlarms, SampleWindow } from "./alarm-evaluation.js";
import { counterDelta, type ReplicaCounters } from "./replica-metrics.js";
import type { RolloutController } from "./rollout-controller.js";
import { defaultMaxBakeMs } from "./rollout-plan.js";
import { noteBakeProgress, type Rollout, type RolloutStep, rollbackDone } from "./rollout-state.js";

/** What a controller does to one step's replica: wait for it to be ready, bake it, roll it back. */

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls /ready until the target reports ready on `version`; checks for an abort while waiting. */
export async function waitReady(
  c: RolloutController,
  step: RolloutStep,
  version: string,
  watchAbort: boolean,
): Promise<"ready" | "aborted" | string> {
  const deadline = c.now() + (await c.read()).plan.readyTimeoutMs;
  let last = "no answer";
  for (;;) {
    const url = await c.urlOf(step);
    if (url) {
      const r = await c.deps.probe.ready(url);
      if (r.ready && r.version === version) return "ready";
      last = r.ready ? `ready but on ${r.version ?? "an unknown version"}` : "not ready";
    } else {
      last = "no endpoint in the registry";
    }
    if (watchAbort && (await c.read()).intent === "abort") return "aborted";
    if (c.now() > deadline) return `not ready on ${version} in time (${last})`;
    await sleep(100);
  }
}

/** The same cell's AZs still on the old version; else other cells' replicas of the same AZ; else none. */
async function baselineReplicas(c: RolloutController, r: Rollout, step: RolloutStep): Promise<string[]> {
  const pending = r.steps.filter((s) => s.phase === "pending" && s.index !== step.index);
  const sameCell = pending.filter((s) => s.cellId === step.cellId);
  const chosen = sameCell.length > 0 ? sameCell : pending.filter((s) => s.az === step.az);
  const urls = await Promise.all(chosen.map((s) => c.urlOf(s)));
  return urls.filter((u): u is string => u !== undefined);
}

export interface BakeOutcome {
  fired?: string;
  /** The bake deadline passed before the step could pass: why it could not. */
  expired?: string;
  aborted?: boolean;
  detail?: string;
}

/**
 * Bakes the step: scrapes target and baseline until min time and min requests, or an alarm, or an abort,
 * or the bake deadline.
 */
export async function bakeStep(c: RolloutController, start: Rollout, step: RolloutStep): Promise<BakeOutcome> {
  const { plan } = start;
  const { deps } = c;
  const targetUrl = await c.urlOf(step);
  if (!targetUrl) return { fired: "the target has no endpoint in the registry" };
  const baselineUrls = await baselineReplicas(c, start, step);
  const target = new SampleWindow();
  const baselines = baselineUrls.map(() => new SampleWindow());
  let firstTarget: ReplicaCounters | undefined;
  let state: AlarmState = {};
  let canaryAtStart: number | undefined;
  const bakeStarted = Date.parse(step.bakeStartedAt ?? new Date(c.now()).toISOString());
  // A rollout persisted before the deadline existed has none in its plan: it gets the default one.
  const maxMs = plan.bake.maxMs ?? defaultMaxBakeMs(plan.bake.minMs);
  for (;;) {
    const at = c.now();
    const [ready, counters, ...base] = await Promise.all([
      deps.probe.ready(targetUrl),
      deps.probe.metrics(targetUrl),
      ...baselineUrls.map((u) => deps.probe.metrics(u)),
    ]);
    if (counters) {
      firstTarget ??= counters;
      target.add(at, counters, plan.alarms.windowMs);
    }
    base.forEach((counted, i) => {
      if (counted) baselines[i]?.add(at, counted, plan.alarms.windowMs);
    });
    const verdict = evaluateAlarms(
      state,
      {
        nowMs: at,
        targetReady: ready.ready && ready.version === plan.version,
        target: target.windowDelta() ?? { requests: 0, errors: 0, buckets: [] },
        ...(baselines.length > 0 ? { baseline: baselineDelta(baselines) } : {}),
        bakeStartedAtMs: bakeStarted,
        ...(counters?.processStartMs !== undefined ? { targetProcessStartMs: counters.processStartMs } : {}),
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
    // Heartbeat, the latest intents, and the progress `rollout status` shows.
    const current = await c.write((r) => noteBakeProgress(r, step, served));
    if (current.intent === "abort") return { aborted: true };
    // A breach not yet held for its duration is pending: it fires or clears within that duration, and
    // a step is never passed in between (a slow scrape must not let a failing version through).
    const pending = alarmPending(state);
    const elapsed = at - bakeStarted;
    if (!pending && elapsed >= plan.bake.minMs && served >= plan.bake.minRequests) {
      const r = verdict.reading;
      return {
        detail: `${served} requests in ${Math.round(elapsed / 1000)}s; error rate ${r.targetErrorRatePercent ?? "-"}% vs ${r.baselineErrorRatePercent ?? "-"}%; p99 ${r.targetP99Ms ?? "-"} ms vs ${r.baselineP99Ms ?? "-"} ms`,
      };
    }
    // Not proven by the deadline: rolled back, never left in place. An unproven version stays off the target
    // (it would take traffic unbaked once the AZ is restored), the rollout ends and frees the active slot,
    // and a CI deploy fails loudly instead of hanging.
    if (elapsed >= maxMs) {
      const short = served < plan.bake.minRequests;
      const why = [
        ...(short ? [`${served} of ${plan.bake.minRequests} requests served`] : []),
        ...(pending ? ["an alarm still pending"] : []),
      ];
      return {
        expired:
          `bake deadline: not passed in ${Math.round(elapsed / 1000)}s (${why.join(", ")})` +
          (short ? "; does the target take traffic (an evacuated AZ, a quiet cell)?" : ""),
      };
    }
    await sleep(plan.scrapeIntervalMs);
  }
}

/** Puts the step's replica back on its previous version (audited first) and waits for it to be ready. */
export function rollbackStep(c: RolloutController, step: RolloutStep): Promise<Rollout> {
  return withSpan(
    "rollout rollback",
    { "cell.id": step.cellId, az: step.az, "cellwallet.rollout_step": step.index + 1 },
    async () => {
      const previous = step.previousVersion;
      if (previous) {
        await c.deps.audit("rollout.step.rollback", `${step.cellId}/${step.az}`, {
          rolloutId: c.rolloutId,
          step: step.index + 1,
          to: previous,
          reason: step.reason,
        });
        await c.deps.driver.deploy({ cellId: step.cellId, az: step.az }, previous);
        const ready = await waitReady(c, step, previous, false);
        if (ready !== "ready") throw new Error(`rollback of ${step.cellId}/${step.az} to ${previous}: ${ready}`);
      }
      return c.write((r) => rollbackDone(r, step, c.now()));
    },
  );
}
