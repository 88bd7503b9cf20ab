import type { RampStage } from "./options.js";

/**
 * When the open model starts each iteration: a piecewise-linear arrival rate
 * (constant = one flat stage; ramping = k6's stages, from `startRate`). Pure
 * arithmetic, no timers: arrival i (0-based) is due when the integral of the rate
 * reaches i, so the schedule never depends on how fast the server answers.
 */
export class ArrivalSchedule {
  private readonly stages: { startMs: number; durationMs: number; from: number; to: number; before: number }[] = [];
  readonly durationMs: number;
  /** Arrivals in the whole schedule (the integral of the rate, rounded up). */
  readonly totalArrivals: number;

  constructor(startRate: number, stages: readonly RampStage[]) {
    let startMs = 0;
    let before = 0;
    let from = startRate;
    for (const stage of stages) {
      this.stages.push({ startMs, durationMs: stage.durationMs, from, to: stage.target, before });
      before += ((from + stage.target) / 2) * (stage.durationMs / 1000);
      startMs += stage.durationMs;
      from = stage.target;
    }
    this.durationMs = startMs;
    // An arrival due exactly at the end belongs to the next run, not this one.
    this.totalArrivals = Math.max(0, Math.ceil(before - 1e-9));
  }

  static constant(rate: number, durationMs: number): ArrivalSchedule {
    return new ArrivalSchedule(rate, [{ durationMs, target: rate }]);
  }

  /** Offset (ms from the start) at which arrival `i` is due; undefined past the end. */
  arrivalTime(i: number): number | undefined {
    if (i >= this.totalArrivals) return undefined;
    for (const s of this.stages) {
      const seconds = s.durationMs / 1000;
      const inStage = ((s.from + s.to) / 2) * seconds;
      if (i < s.before + inStage - 1e-9) {
        // Solve before + from·t + (to−from)·t²/(2·seconds) = i for t, in the stable form (no 0/0 when flat).
        const delta = i - s.before;
        const a = (s.to - s.from) / (2 * seconds);
        const root = Math.sqrt(Math.max(0, s.from * s.from + 4 * a * delta));
        const t = delta === 0 ? 0 : (2 * delta) / (s.from + root);
        return s.startMs + t * 1000;
      }
    }
    return undefined;
  }

  /** The asked rate (iterations/s) at offset `ms`. */
  rateAt(ms: number): number {
    for (const s of this.stages) {
      if (ms < s.startMs + s.durationMs) return s.from + ((s.to - s.from) * (ms - s.startMs)) / s.durationMs;
    }
    return this.stages.at(-1)?.to ?? 0;
  }
}
