import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeDirectory } from "@cellwallet/store-support/fs";
import { LoadClient } from "./client.js";
import { type Load, offerLoad, scheduleOf, verifyBooks, warmupOf } from "./engine.js";
import { catchInterrupt, EXIT_INTERRUPTED } from "./interrupt.js";
import { formatRate } from "./options.js";
import { renderReport, timelineCharts } from "./report-html.js";
import { renderSvg } from "./report-svg.js";
import type { Scenario } from "./scenario.js";
import { prepare } from "./setup.js";
import { breakdown, type RunSummary, summaryText } from "./summary.js";
import { evaluateThresholds, type Threshold } from "./thresholds.js";
import type { TokenSource } from "./tokens.js";

export interface RunOptions {
  scenario: Scenario;
  target: string;
  cell: string | undefined;
  load: Load;
  /** Unmeasured warm-up before the run (0: none); see warmupOf. */
  warmupMs: number;
  thresholds: Threshold[];
  out: string | undefined;
  json: boolean;
  abortOnFail: boolean;
  verify: boolean;
  users: number;
  seed: number;
  timeoutMs: number;
  tokens: TokenSource;
  env: NodeJS.ProcessEnv;
}

type RunExit = RunSummary["exitCode"];

/**
 * `cellload run`: prepares, offers the load, checks thresholds and books; returns the exit code (0, 1, 99, or 130
 * when Ctrl-C stopped it: see interrupt.ts).
 */
export async function runLoad(o: RunOptions): Promise<{ exitCode: RunExit; summary: RunSummary }> {
  const interrupt = catchInterrupt((line) => process.stderr.write(`${line}\n`));
  try {
    return await runLoadUntil(o, interrupt.requested);
  } finally {
    interrupt.release();
  }
}

async function runLoadUntil(
  o: RunOptions,
  stopRequested: () => boolean,
): Promise<{ exitCode: RunExit; summary: RunSummary }> {
  const log = (line: string) => {
    if (!o.json) process.stderr.write(`${line}\n`);
  };
  const warmup = o.warmupMs > 0 ? warmupOf(o.load, o.warmupMs) : undefined;
  const arrivals = (load: Load) => (load.model === "open" ? scheduleOf(load).totalArrivals : load.vus * 50);
  const expectedFreshUsers = arrivals(o.load) + (warmup ? arrivals(warmup) : 0);
  const prepared = await prepare({
    target: o.target,
    cell: o.cell,
    users: o.users,
    scenario: o.scenario,
    tokens: o.tokens,
    env: o.env,
    seed: o.seed,
    expectedFreshUsers:
      o.scenario.name === "journey" || o.scenario.name === "onboarding-burst" ? expectedFreshUsers : 0,
    log,
  });
  const client = new LoadClient(o.target, {
    connections: o.load.model === "open" ? Math.min(o.load.maxInFlight, 512) : o.load.vus,
    timeoutMs: o.timeoutMs,
  });
  try {
    log(
      `cellload: ${o.scenario.name} against ${o.target} (${prepared.kind}), ${prepared.ctx.vus.length} virtual users${o.cell ? ` in ${o.cell}` : ""}`,
    );
    if (warmup) {
      const what = warmup.model === "open" ? formatRate(warmup.rate ?? 1) : `${warmup.vus} VUs`;
      log(`cellload: warming up for ${o.warmupMs / 1000} s at ${what} (not measured; its operations are in the books)`);
      await offerLoad({
        load: warmup,
        scenario: o.scenario,
        ctx: prepared.ctx,
        client,
        books: prepared.books,
        thresholds: [],
        abortOnFail: false,
        progress: false,
        stopRequested,
      });
    }
    const startedAt = new Date().toISOString();
    const result = await offerLoad({
      load: o.load,
      scenario: o.scenario,
      ctx: prepared.ctx,
      client,
      books: prepared.books,
      thresholds: o.thresholds,
      abortOnFail: o.abortOnFail,
      progress: !o.json,
      stopRequested,
    });
    const { recorder } = result;
    const thresholds = evaluateThresholds(o.thresholds, recorder);
    const verify = o.verify ? await verifyBooks(o.target, prepared.books, prepared.ctx) : null;
    const checks = recorder.checks({});
    // Wrong books (money lost or applied twice) outrank a missed threshold: 1 wins over 99.
    const exitCode: RunExit =
      verify && !verify.pass ? 1 : stopRequested() ? EXIT_INTERRUPTED : thresholds.some((t) => !t.ok) ? 99 : 0;
    const elapsed = recorder.elapsedSeconds();
    const summary: RunSummary = {
      schema: "cellload/summary@1",
      scenario: o.scenario.name,
      target: o.target,
      targetKind: prepared.kind,
      cell: o.cell ?? null,
      executor:
        o.load.model === "open"
          ? {
              model: "open",
              rate: o.load.ramp ? null : (o.load.rate ?? null),
              ramp: o.load.ramp ?? null,
              durationMs: o.load.ramp ? scheduleOf(o.load).durationMs : o.load.durationMs,
              maxInFlight: o.load.maxInFlight,
              warmupMs: o.warmupMs,
            }
          : { model: "closed", vus: o.load.vus, durationMs: o.load.durationMs, warmupMs: o.warmupMs },
      startedAt,
      elapsedSeconds: Math.round(elapsed * 1000) / 1000,
      // --abort-on-fail's stop only: a Ctrl-C is `interrupted`, as the README defines them.
      aborted: result.executor.aborted && !stopRequested(),
      interrupted: stopRequested(),
      iterations: {
        started: result.executor.started,
        dropped: result.executor.dropped,
        ratePerSecond: Math.round((10 * result.executor.started) / Math.max(elapsed, 1e-9)) / 10,
      },
      schedulingLagMs: recorder.lagSummary(),
      ...breakdown(recorder),
      checks: {
        passed: checks.passed,
        total: checks.total,
        rate: checks.total === 0 ? null : checks.passed / checks.total,
      },
      thresholds,
      verify,
      iterationErrors: Object.fromEntries(result.iterationErrors),
      crossCellSkipped: prepared.crossCellSkipped ?? null,
      timeline: recorder.timeline,
      exitCode,
    };
    // Printed first: should the files fail to be written after all, the run's result is not lost.
    process.stdout.write(o.json ? `${JSON.stringify(summary, null, 2)}\n` : `${summaryText(summary)}\n`);
    if (o.out) writeOutputs(o.out, summary);
    return { exitCode, summary };
  } finally {
    await client.close();
    await prepared.close();
  }
}

export function writeOutputs(dir: string, summary: RunSummary): void {
  makeDirectory(dir);
  writeFileSync(join(dir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  const html = renderReport({
    title: `cellload ${summary.scenario} — ${summary.target}${summary.cell ? ` (${summary.cell})` : ""} — ${summary.startedAt}`,
    summaryText: summaryText(summary),
    charts: timelineCharts(summary.timeline),
    data: summary,
  });
  writeFileSync(join(dir, "report.html"), html);
  // The same run as a static picture, for Markdown pages where report.html's scripts cannot run.
  writeFileSync(join(dir, "report.svg"), renderSvg(summary));
}
