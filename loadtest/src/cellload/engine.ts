import type { Books } from "../bench/book.js";
import { verifyCell } from "../bench/fixtures.js";
import type { LoadClient } from "./client.js";
import { type ExecutorResult, runClosedModel, runOpenModel } from "./executor.js";
import type { RampStage } from "./options.js";
import { startProgress } from "./progress.js";
import { Recorder } from "./recorder.js";
import { MeasuredIteration, type Scenario, type ScenarioContext, type VirtualUser } from "./scenario.js";
import { ArrivalSchedule } from "./schedule.js";
import type { VerifySummary } from "./summary.js";
import { evaluateThresholds, type Threshold } from "./thresholds.js";

/**
 * cellload's one load engine: offers a scenario's iterations with an executor,
 * measures them, and checks the books afterwards. `run` and `capacity` (and the
 * tests) all go through here.
 */

export type Load =
  | { model: "open"; rate: number | undefined; ramp: RampStage[] | undefined; durationMs: number; maxInFlight: number }
  | { model: "closed"; vus: number; durationMs: number };

export function scheduleOf(load: Extract<Load, { model: "open" }>): ArrivalSchedule {
  if (load.ramp) return new ArrivalSchedule(load.rate ?? 0, load.ramp);
  return ArrivalSchedule.constant(load.rate ?? 1, load.durationMs);
}

/**
 * The warm-up offered before a measured run: a tenth of the open model's (first) rate, a quarter of the closed
 * model's virtual users, for `durationMs`. A cold process (JIT, connection pools) is not the steady state an
 * SLO speaks of; a sudden step to full load on it measures the cold start (run with --warmup 0 for that).
 */
export function warmupOf(load: Load, durationMs: number): Load {
  if (load.model === "closed") return { model: "closed", vus: Math.max(1, Math.ceil(load.vus / 4)), durationMs };
  const peak = load.rate ?? load.ramp?.[0]?.target ?? 10;
  return { model: "open", rate: Math.max(1, peak / 10), ramp: undefined, durationMs, maxInFlight: load.maxInFlight };
}

export interface LoadResult {
  recorder: Recorder;
  executor: ExecutorResult;
  iterationErrors: Map<string, number>;
}

export async function offerLoad(options: {
  load: Load;
  scenario: Scenario;
  ctx: ScenarioContext;
  client: LoadClient;
  books: Books;
  thresholds: Threshold[];
  abortOnFail: boolean;
  progress: boolean;
  /** Stop offering load when this turns true (Ctrl-C), as --abort-on-fail does. */
  stopRequested?: () => boolean;
}): Promise<LoadResult> {
  const { load, scenario, ctx, client, books } = options;
  const recorder = new Recorder();
  const iterationErrors = new Map<string, number>();
  let inFlight = 0;
  let lastCheck = 0;
  let failing = false;
  const hooks = {
    async iterate(intendedAt: number | undefined) {
      recorder.iteration();
      inFlight += 1;
      try {
        await scenario.iteration(ctx, new MeasuredIteration(client, recorder, books, intendedAt));
      } catch (error) {
        const message = (error as Error).message.split("\n")[0] ?? "error";
        iterationErrors.set(message, (iterationErrors.get(message) ?? 0) + 1);
        recorder.iterationError();
      } finally {
        inFlight -= 1;
      }
    },
    dropped: () => recorder.drop(),
    shouldStop() {
      if (options.stopRequested?.()) return true;
      if (!options.abortOnFail) return false;
      const elapsed = recorder.elapsedSeconds();
      // Judged once a second after the first 2 s (k6's abortOnFail with a short delay).
      if (elapsed >= 2 && elapsed - lastCheck >= 1) {
        lastCheck = elapsed;
        failing = evaluateThresholds(options.thresholds, recorder).some((r) => !r.ok && r.actual !== null);
      }
      return failing;
    },
  };
  const stopProgress = options.progress ? startProgress(recorder, load.durationMs, () => inFlight) : () => undefined;
  recorder.restart();
  try {
    const executor =
      load.model === "open"
        ? await runOpenModel(scheduleOf(load), load.maxInFlight, hooks)
        : await runClosedModel(load.vus, load.durationMs, hooks);
    // Rates are per second of offered load (--duration or until a stop), not of the wait for the last answers.
    recorder.stop(executor.offeredMs);
    return { recorder, executor, iterationErrors };
  } finally {
    stopProgress();
  }
}

/**
 * --verify: settle every operation whose outcome the run did not see (same
 * Idempotency-Key again), wait for cross-cell transfers to finish, then compare
 * every wallet with the books: balance, entry count (nothing applied twice or
 * lost), sum of balances, and the wallet's hash chain (GET /wallets/{id}/audit).
 */
export async function verifyBooks(target: string, books: Books, ctx: ScenarioContext): Promise<VerifySummary> {
  const resolution = await books.resolveOpen(target);
  const transit = await books.settleInTransit(target, undefined);
  const wallets = new Map<string, VirtualUser>();
  for (const w of [...ctx.vus, ...ctx.counterparties]) wallets.set(w.walletId, w);
  const verification = await verifyCell(target, books, ctx.operatorToken, [...wallets.values()], (w) => w.token);
  const lines = [
    `re-sent with the same key: ${resolution.unanswered} unanswered + ${resolution.unsettled} unsettled → ${resolution.replayed} replayed, ${resolution.executedLate} executed late, ${resolution.unknown} unknown`,
    ...(transit.accepted > 0
      ? [
          `cross-cell accepted (202): ${transit.accepted} → ${transit.completed} completed, ${transit.failed} refunded, ${transit.unknown} unknown`,
        ]
      : []),
    ...verification.lines,
  ];
  const failures = books.unexpectedFailures();
  for (const [label, n] of failures) lines.push(`  refused before running (not booked): ${label} ×${n}`);
  return { pass: verification.pass && resolution.unknown === 0 && transit.unknown === 0, lines };
}
