import { LoadClient } from "./client.js";
import { offerLoad, verifyBooks } from "./engine.js";
import { catchInterrupt, EXIT_INTERRUPTED } from "./interrupt.js";
import type { Scenario } from "./scenario.js";
import { type Prepared, prepare } from "./setup.js";
import { group, type VerifySummary } from "./summary.js";
import { evaluateThreshold, type Threshold } from "./thresholds.js";
import type { TokenSource } from "./tokens.js";

/**
 * `cellload capacity`: the highest arrival rate a cell holds within its SLO.
 * Steps the open-model rate up geometrically (each step a fresh measurement of
 * --step-duration), stops at the first step that breaks the SLO (latency
 * expression, error rate above --max-error, or dropped iterations), then bisects
 * between the last rate that held and the first that broke. Reports every step
 * (the curve) and the highest rate that held.
 */

export interface CapacityStep {
  rate: number;
  achievedPerSecond: number;
  requests: number;
  failedRate: number;
  dropped: number;
  p50: number | null;
  p99: number | null;
  latencySlo: number | null;
  /** p99 of the generator's own scheduling lag (ms): large means the load generator, not the cell, was saturated. */
  generatorLagP99: number | null;
  held: boolean;
  why: string;
}

export interface CapacitySummary {
  schema: "cellload/capacity@1";
  scenario: string;
  target: string;
  cell: string | null;
  slo: string;
  maxError: number;
  stepDurationMs: number;
  steps: CapacityStep[];
  /** Highest offered rate (iterations/s) that held the SLO; null when even the first step broke it. */
  maxRate: number | null;
  /** Requests per second measured at that step (an iteration of the default scenario is one request). */
  maxOpsPerSecond: number | null;
  /**
   * True when a step above maxRate broke the SLO: maxRate is the capacity (to the bisection's resolution). False:
   * maxRate is only a lower bound (every step held up to --max-rate, or Ctrl-C stopped the search) or null.
   */
  found: boolean;
  verify: VerifySummary | null;
  /** Why the scenario's cross-cell transfers did not run (no wallet in another cell); null when they ran or it has none. */
  crossCellSkipped: string | null;
  /** Stopped by Ctrl-C: the steps so far, maxRate a lower bound (the step under way is not judged). */
  interrupted?: boolean;
  exitCode: 0 | 1 | 99 | 130;
}

/** Thrown out of the search when Ctrl-C asks to stop. */
class Interrupted extends Error {}

/** The rates to try: geometric steps from `start` by `factor` up to `maxRate`, then `refine` bisections. */
export interface CapacityPlan {
  start: number;
  factor: number;
  maxRate: number;
  refine: number;
}

export interface CapacityOptions extends CapacityPlan {
  scenario: Scenario;
  target: string;
  cell: string | undefined;
  slo: Threshold;
  maxError: number;
  stepMs: number;
  users: number;
  maxInFlight: number;
  timeoutMs: number;
  tokens: TokenSource;
  env: NodeJS.ProcessEnv;
  /** undefined: check the books when the scenario moves money. */
  verify: boolean | undefined;
  /** No progress lines on stderr. */
  json: boolean;
}

/**
 * The search alone: steps the rate up until a step breaks, then bisects between the last rate that held and
 * the first that broke. Returns the highest step that held (undefined when even `start` broke).
 */
export async function searchCapacity(
  plan: CapacityPlan,
  measure: (rate: number) => Promise<CapacityStep>,
): Promise<CapacityStep | undefined> {
  let held: CapacityStep | undefined;
  let broke: CapacityStep | undefined;
  for (
    let rate = plan.start;
    rate <= plan.maxRate * 1.0001;
    rate = Math.min(rate * plan.factor, rate >= plan.maxRate ? Number.POSITIVE_INFINITY : plan.maxRate)
  ) {
    const step = await measure(rate);
    if (!step.held) {
      broke = step;
      break;
    }
    held = step;
  }
  if (held && broke) {
    let low = held.rate;
    let high = broke.rate;
    for (let i = 0; i < plan.refine; i++) {
      const mid = (low + high) / 2;
      const step = await measure(mid);
      if (step.held) {
        low = mid;
        if (!held || step.rate > held.rate) held = step;
      } else high = mid;
    }
  }
  return held;
}

/**
 * Whether the search found the capacity: a step that held and a higher one that broke (a judged break, not the
 * partial step of an interruption). An interrupted search, or one that held up to --max-rate, found a lower bound.
 */
export function capacityFound(steps: readonly CapacityStep[], held: CapacityStep | undefined, interrupted: boolean) {
  if (!held || interrupted) return false;
  return steps.some((s) => !s.held && s.rate > held.rate);
}

/** One step: offers `rate` for --step-duration and judges it against the SLO, the error rate and drops. */
async function measureStep(
  o: CapacityOptions,
  prepared: Prepared,
  client: LoadClient,
  rate: number,
  stopRequested: () => boolean,
): Promise<CapacityStep> {
  const result = await offerLoad({
    load: { model: "open", rate, ramp: undefined, durationMs: o.stepMs, maxInFlight: o.maxInFlight },
    scenario: o.scenario,
    ctx: prepared.ctx,
    client,
    books: prepared.books,
    thresholds: [],
    abortOnFail: false,
    progress: false,
    stopRequested,
  });
  const all = group(result.recorder, {});
  const latency = evaluateThreshold(o.slo, result.recorder);
  const failedRate = all.count === 0 ? 1 : all.failed / all.count;
  const why = stopRequested()
    ? "interrupted (a partial step, not judged)"
    : !latency.ok
      ? `${o.slo.source} broke (${latency.actual?.toFixed(1) ?? "no samples"})`
      : failedRate > o.maxError
        ? `error rate ${failedRate.toFixed(4)} > ${o.maxError}`
        : result.executor.dropped > 0
          ? `${result.executor.dropped} iterations dropped (more than --max-in-flight waiting)`
          : "held";
  return {
    rate: Math.round(rate * 10) / 10,
    achievedPerSecond: all.ratePerSecond,
    requests: all.count,
    failedRate,
    dropped: result.executor.dropped,
    p50: all.latencyMs?.p50 ?? null,
    p99: all.latencyMs?.p99 ?? null,
    latencySlo: latency.actual,
    generatorLagP99: result.recorder.lagSummary()?.p99 ?? null,
    held: why === "held",
    why,
  };
}

function stepLine(step: CapacityStep): string {
  return `  ${String(step.rate).padStart(8)}/s offered  ${String(step.achievedPerSecond).padStart(8)} req/s  p50 ${step.p50?.toFixed(1) ?? "-"} ms  p99 ${step.p99?.toFixed(1) ?? "-"} ms  failed ${(100 * step.failedRate).toFixed(2)}%  generator lag p99 ${step.generatorLagP99?.toFixed(1) ?? "-"} ms  ${step.why}`;
}

/**
 * `cellload capacity` end to end: prepares the users, searches (progress on stderr unless --json), checks the
 * books; returns the summary (its exitCode: 0 a rate held, 99 none did, 1 the books disagree).
 */
export async function measureCapacity(o: CapacityOptions): Promise<CapacitySummary> {
  const log = (line: string) => {
    if (!o.json) process.stderr.write(`${line}\n`);
  };
  const prepared = await prepare({
    target: o.target,
    cell: o.cell,
    users: o.users,
    scenario: o.scenario,
    tokens: o.tokens,
    env: o.env,
    seed: 1,
    expectedFreshUsers: 0,
    log,
  });
  const client = new LoadClient(o.target, { connections: Math.min(o.maxInFlight, 512), timeoutMs: o.timeoutMs });
  const steps: CapacityStep[] = [];
  const interrupt = catchInterrupt((line) => process.stderr.write(`${line}\n`));
  try {
    log(
      `cellload capacity: ${o.scenario.name} against ${o.target}${o.cell ? ` (${o.cell})` : ""}, SLO ${o.slo.source} and errors ≤ ${o.maxError}, ${o.stepMs / 1000} s per step`,
    );
    let held: CapacityStep | undefined;
    try {
      held = await searchCapacity(o, async (rate) => {
        if (interrupt.requested()) throw new Interrupted();
        const step = await measureStep(o, prepared, client, rate, interrupt.requested);
        log(stepLine(step));
        steps.push(step);
        if (interrupt.requested()) throw new Interrupted();
        return step;
      });
    } catch (error) {
      if (!(error instanceof Interrupted)) throw error;
      held = steps.filter((s) => s.held).sort((a, b) => b.rate - a.rate)[0];
    }
    const verify = (o.verify ?? o.scenario.money) ? await verifyBooks(o.target, prepared.books, prepared.ctx) : null;
    // Wrong books outrank an interruption, which outranks "no rate held": 1, then 130, then 99.
    const exitCode: CapacitySummary["exitCode"] =
      verify && !verify.pass ? 1 : interrupt.requested() ? EXIT_INTERRUPTED : !held ? 99 : 0;
    const summary: CapacitySummary = {
      schema: "cellload/capacity@1",
      scenario: o.scenario.name,
      target: o.target,
      cell: o.cell ?? null,
      slo: o.slo.source,
      maxError: o.maxError,
      stepDurationMs: o.stepMs,
      steps,
      maxRate: held?.rate ?? null,
      maxOpsPerSecond: held?.achievedPerSecond ?? null,
      found: capacityFound(steps, held, interrupt.requested()),
      crossCellSkipped: prepared.crossCellSkipped ?? null,
      verify,
      ...(interrupt.requested() ? { interrupted: true } : {}),
      exitCode,
    };
    return summary;
  } finally {
    interrupt.release();
    await client.close();
    await prepared.close();
  }
}
