import {
  counterDelta,
  errorRatePercent,
  quantileSeconds,
  type ReplicaCounters,
  sumCounters,
} from "./replica-metrics.js";
import type { AlarmThresholds } from "./rollout-plan.js";

/**
 * Alarms of one rollout step, pure: the target replica (cell, AZ on the new
 * version) compared with its baseline (replicas still on the old version).
 * Like a Prometheus rule with `for:`, a condition fires only after it has held
 * continuously for its duration; a window with too few requests neither
 * confirms nor clears a breach.
 */
export interface AlarmState {
  errorBreachSinceMs?: number;
  p99BreachSinceMs?: number;
  notReadySinceMs?: number;
}

export interface AlarmInput {
  nowMs: number;
  targetReady: boolean;
  /** The target's API traffic over the evaluation window. */
  target: ReplicaCounters;
  /** The baseline's over the same window; undefined when no replica is left on the old version. */
  baseline?: ReplicaCounters;
  /** When the bake began (ms), and when the target's process started (its /metrics), if it says. */
  bakeStartedAtMs?: number;
  targetProcessStartMs?: number;
}

/**
 * How much later than the bake's start a target's process may have started and still be the process that
 * was baked: its start time is rounded to whole seconds, and the replica's clock is not the controller's.
 */
export const RESTART_SLACK_MS = 2_000;

export interface AlarmReading {
  targetErrorRatePercent?: number;
  baselineErrorRatePercent?: number;
  targetP99Ms?: number;
  baselineP99Ms?: number;
  targetRequests: number;
  baselineRequests: number;
}

export interface AlarmVerdict {
  state: AlarmState;
  reading: AlarmReading;
  /** Set when an alarm fires: what, by how much, for how long. */
  fired?: string;
}

const round = (n: number | undefined, digits = 2) =>
  n === undefined ? undefined : Math.round(n * 10 ** digits) / 10 ** digits;

function since(breach: boolean | undefined, previous: number | undefined, nowMs: number): number | undefined {
  if (breach === undefined) return previous; // not enough data: keep what we knew
  return breach ? (previous ?? nowMs) : undefined;
}

/** True while some condition breaches but has not yet held long enough to fire. */
export function alarmPending(state: AlarmState): boolean {
  return (
    state.errorBreachSinceMs !== undefined ||
    state.p99BreachSinceMs !== undefined ||
    state.notReadySinceMs !== undefined
  );
}

export function evaluateAlarms(state: AlarmState, input: AlarmInput, t: AlarmThresholds): AlarmVerdict {
  const { nowMs, target, baseline } = input;
  const enough = (c: ReplicaCounters | undefined) => c !== undefined && c.requests >= t.minWindowRequests;
  const targetRate = errorRatePercent(target);
  // No replica left on the old version: the baseline error rate is taken as zero and p99 is not compared.
  const baseRate = baseline ? errorRatePercent(baseline) : 0;
  const targetP99 = quantileSeconds(target, 0.99);
  const baseP99 = baseline ? quantileSeconds(baseline, 0.99) : undefined;
  const reading: AlarmReading = {
    targetErrorRatePercent: round(targetRate, 3),
    baselineErrorRatePercent: round(baseRate, 3),
    targetP99Ms: round(targetP99 === undefined ? undefined : targetP99 * 1000),
    baselineP99Ms: round(baseP99 === undefined ? undefined : baseP99 * 1000),
    targetRequests: target.requests,
    baselineRequests: baseline?.requests ?? 0,
  };

  const errorBreach =
    enough(target) && targetRate !== undefined
      ? targetRate - (baseRate ?? 0) > t.errorRatePointsAboveBaseline
      : undefined;
  const p99Breach =
    enough(target) && enough(baseline) && targetP99 !== undefined && baseP99 !== undefined
      ? targetP99 > baseP99 * (1 + t.p99RatioAboveBaseline)
      : undefined;
  const next: AlarmState = {
    errorBreachSinceMs: since(errorBreach, state.errorBreachSinceMs, nowMs),
    p99BreachSinceMs: since(p99Breach, state.p99BreachSinceMs, nowMs),
    notReadySinceMs: input.targetReady ? undefined : (state.notReadySinceMs ?? nowMs),
  };
  const held = (start: number | undefined, forMs: number) => start !== undefined && nowMs - start >= forMs;
  // A process that started after the bake began replaced the one that was baking: the version crashed (or
  // was killed) and a supervisor restarted it within seconds, far quicker than the readiness alarm's duration.
  // Fires at once: a crash is no noise to wait out, and a bake that did not watch one process vouches for none.
  const restartedAfterMs =
    input.targetProcessStartMs !== undefined && input.bakeStartedAtMs !== undefined
      ? input.targetProcessStartMs - input.bakeStartedAtMs
      : undefined;
  let fired: string | undefined;
  if (restartedAfterMs !== undefined && restartedAfterMs > RESTART_SLACK_MS) {
    fired = `the target restarted during the bake (its process started ${Math.round(restartedAfterMs / 1000)}s after the bake began)`;
  } else if (held(next.notReadySinceMs, t.readinessLostForMs)) {
    fired = `readiness lost for ${Math.round((nowMs - (next.notReadySinceMs ?? nowMs)) / 1000)}s`;
  } else if (held(next.errorBreachSinceMs, t.errorRateForMs)) {
    fired =
      `error rate ${reading.targetErrorRatePercent}% vs baseline ${reading.baselineErrorRatePercent}% ` +
      `(> ${t.errorRatePointsAboveBaseline} points for ${Math.round(t.errorRateForMs / 1000)}s)`;
  } else if (held(next.p99BreachSinceMs, t.p99ForMs)) {
    fired =
      `p99 ${reading.targetP99Ms} ms vs baseline ${reading.baselineP99Ms} ms ` +
      `(> +${Math.round(t.p99RatioAboveBaseline * 100)}% for ${Math.round(t.p99ForMs / 1000)}s)`;
  }
  return { state: next, reading, ...(fired ? { fired } : {}) };
}

/**
 * Cumulative samples of one replica over time, trimmed to what the window
 * needs. `windowDelta` is the increase over the last windowMs (or since the
 * first sample when the history is shorter).
 */
export class SampleWindow {
  private samples: Array<{ atMs: number; counters: ReplicaCounters }> = [];

  add(atMs: number, counters: ReplicaCounters, windowMs: number): void {
    this.samples.push({ atMs, counters });
    // Keep one sample at or before the window's start as its reference point.
    while (this.samples.length > 2 && (this.samples[1]?.atMs ?? 0) <= atMs - windowMs) this.samples.shift();
  }

  windowDelta(): ReplicaCounters | undefined {
    const last = this.samples.at(-1);
    const first = this.samples[0];
    if (!last || !first) return undefined;
    if (first === last) return { requests: 0, errors: 0, buckets: last.counters.buckets.map(([le]) => [le, 0]) };
    return counterDelta(first.counters, last.counters);
  }
}

export function baselineDelta(windows: readonly SampleWindow[]): ReplicaCounters | undefined {
  const deltas = windows.map((w) => w.windowDelta()).filter((d): d is ReplicaCounters => d !== undefined);
  return deltas.length > 0 ? sumCounters(deltas) : undefined;
}
