import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { LoadClient } from "./client.js";
import { offerLoad, verifyBooks } from "./engine.js";
import { parseCellId, parseDuration, parsePositiveInteger, parseRate, parseTargetUrl, UsageError } from "./options.js";
import { renderReport } from "./report-html.js";
import { loadScenario } from "./scenarios/load.js";
import { prepare } from "./setup.js";
import { group, type VerifySummary } from "./summary.js";
import { evaluateThreshold, parseThreshold, type Threshold } from "./thresholds.js";
import { fileTokens, mintingTokens } from "./tokens.js";

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
  verify: VerifySummary | null;
  exitCode: 0 | 1 | 99;
}

interface CapacityFlags {
  target?: string;
  cell?: string;
  slo: string;
  maxError: string;
  scenario: string;
  start: string;
  factor: string;
  maxRate: string;
  stepDuration: string;
  refine: string;
  users: string;
  maxInFlight: string;
  out?: string;
  json?: boolean;
  verify?: boolean;
  tokenFile?: string;
  timeout: string;
}

function parseSlo(text: string): Threshold {
  const t = parseThreshold(text.includes(":") ? text : `http_req_duration:${text}`);
  if (t.metric !== "http_req_duration")
    throw new UsageError(`--slo is a latency expression such as 'p(99)<100', got ${JSON.stringify(text)}`);
  return t;
}

export function capacityCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("capacity")
    .description("Step the arrival rate up until the SLO breaks; report the highest rate that held")
    .option("--target <url>", "router or cell base URL")
    .option("--cell <cellId>", "the cell to measure (its users pinned there, as for run --cell)")
    .option(
      "--slo <expr>",
      "latency objective, e.g. 'p(99)<100' (ms) or 'http_req_duration{op:transfer}:p(95)<50'",
      "p(99)<100",
    )
    .option("--max-error <rate>", "most failed requests per request that still holds", "0.001")
    .option("--scenario <name>", "scenario offered at each step", "mixed")
    .option("--start <rate>", "first step (iterations/s)", "20")
    .option("--factor <x>", "each step offers this many times the previous one", "1.5")
    .option("--max-rate <rate>", "never offer more than this", "20000")
    .option("--step-duration <d>", "measurement per step", "10s")
    .option("--refine <n>", "bisection steps between the last rate held and the first broken", "2")
    .option("--users <n>", "virtual users (wallets)", "50")
    .option("--max-in-flight <n>", "most iterations at once (beyond: dropped, and the step breaks)", "2000")
    .option("--out <dir>", "write capacity.json and report.html (the curve) there")
    .option("--json", "print capacity.json instead of the table")
    .option("--verify", "check the books after the last step (default for money scenarios)")
    .option("--no-verify", "skip the books check")
    .option("--token-file <path>", "tokens from an identity provider (see cellload run --help)")
    .option("--timeout <d>", "per-request timeout", "10s")
    .addHelpText(
      "after",
      `
Exit status: 0 a rate held (maxRate reported), 99 even --start broke the SLO, 1 --verify found a
discrepancy, 2 usage error or target unreachable.

Record the result in the registry: cellctl cells set-capacity <cell> --max-tps <maxOpsPerSecond>.

Examples:
  $ cellload capacity --target http://127.0.0.1:8080 --cell cell-1 --slo 'p(99)<100' --max-error 0.001
  $ cellload capacity --target http://127.0.0.1:9101 --scenario deposit --start 50 --step-duration 5s --out ./capacity`,
    )
    .action(async (flags: CapacityFlags) => {
      if (flags.target === undefined) throw new UsageError("--target <url> is required");
      const target = parseTargetUrl(flags.target);
      const cell = flags.cell === undefined ? undefined : parseCellId(flags.cell);
      const slo = parseSlo(flags.slo);
      const maxError = Number(flags.maxError);
      if (!(maxError >= 0 && maxError < 1))
        throw new UsageError(`--max-error must be in [0, 1), got ${JSON.stringify(flags.maxError)}`);
      const start = parseRate(flags.start, "--start");
      const factor = Number(flags.factor);
      if (!(factor > 1 && factor <= 10))
        throw new UsageError(`--factor must be in (1, 10], got ${JSON.stringify(flags.factor)}`);
      const maxRate = parseRate(flags.maxRate, "--max-rate");
      const stepMs = parseDuration(flags.stepDuration, "--step-duration");
      const refine = Number(flags.refine);
      if (!(Number.isInteger(refine) && refine >= 0 && refine <= 10))
        throw new UsageError("--refine must be an integer 0..10");
      const users = parsePositiveInteger(flags.users, "--users");
      const maxInFlight = parsePositiveInteger(flags.maxInFlight, "--max-in-flight");
      const timeoutMs = parseDuration(flags.timeout, "--timeout");
      const scenario = await loadScenario(flags.scenario);
      const tokens = flags.tokenFile ? fileTokens(flags.tokenFile) : mintingTokens(env);
      const json = flags.json ?? false;
      const log = (line: string) => {
        if (!json) process.stderr.write(`${line}\n`);
      };

      const prepared = await prepare({
        target,
        cell,
        users,
        scenario,
        tokens,
        env,
        seed: 1,
        expectedFreshUsers: 0,
        log,
      });
      const client = new LoadClient(target, { connections: Math.min(maxInFlight, 512), timeoutMs });
      const steps: CapacityStep[] = [];
      try {
        const measure = async (rate: number): Promise<CapacityStep> => {
          const result = await offerLoad({
            load: { model: "open", rate, ramp: undefined, durationMs: stepMs, maxInFlight },
            scenario,
            ctx: prepared.ctx,
            client,
            books: prepared.books,
            thresholds: [],
            abortOnFail: false,
            progress: false,
          });
          const all = group(result.recorder, {});
          const latency = evaluateThreshold(slo, result.recorder);
          const failedRate = all.count === 0 ? 1 : all.failed / all.count;
          const why = !latency.ok
            ? `${slo.source} broke (${latency.actual?.toFixed(1) ?? "no samples"})`
            : failedRate > maxError
              ? `error rate ${failedRate.toFixed(4)} > ${maxError}`
              : result.executor.dropped > 0
                ? `${result.executor.dropped} iterations dropped (more than --max-in-flight waiting)`
                : "held";
          const step: CapacityStep = {
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
          log(
            `  ${String(step.rate).padStart(8)}/s offered  ${String(step.achievedPerSecond).padStart(8)} req/s  p50 ${step.p50?.toFixed(1) ?? "-"} ms  p99 ${step.p99?.toFixed(1) ?? "-"} ms  failed ${(100 * failedRate).toFixed(2)}%  generator lag p99 ${step.generatorLagP99?.toFixed(1) ?? "-"} ms  ${why}`,
          );
          steps.push(step);
          return step;
        };
        log(
          `cellload capacity: ${scenario.name} against ${target}${cell ? ` (${cell})` : ""}, SLO ${slo.source} and errors ≤ ${maxError}, ${stepMs / 1000} s per step`,
        );
        let held: CapacityStep | undefined;
        let broke: CapacityStep | undefined;
        for (
          let rate = start;
          rate <= maxRate * 1.0001;
          rate = Math.min(rate * factor, rate >= maxRate ? Number.POSITIVE_INFINITY : maxRate)
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
          for (let i = 0; i < refine; i++) {
            const mid = (low + high) / 2;
            const step = await measure(mid);
            if (step.held) {
              low = mid;
              if (!held || step.rate > held.rate) held = step;
            } else high = mid;
          }
        }
        const verify =
          (flags.verify ?? scenario.money) ? await verifyBooks(target, prepared.books, prepared.ctx) : null;
        const exitCode: 0 | 1 | 99 = !held ? 99 : verify && !verify.pass ? 1 : 0;
        const summary: CapacitySummary = {
          schema: "cellload/capacity@1",
          scenario: scenario.name,
          target,
          cell: cell ?? null,
          slo: slo.source,
          maxError,
          stepDurationMs: stepMs,
          steps,
          maxRate: held?.rate ?? null,
          maxOpsPerSecond: held?.achievedPerSecond ?? null,
          verify,
          exitCode,
        };
        const text = capacityText(summary);
        if (flags.out) {
          mkdirSync(flags.out, { recursive: true });
          writeFileSync(join(flags.out, "capacity.json"), `${JSON.stringify(summary, null, 2)}\n`);
          writeFileSync(
            join(flags.out, "report.html"),
            renderReport({
              title: `cellload capacity — ${target}${cell ? ` (${cell})` : ""}`,
              summaryText: text,
              charts: capacityCharts(steps),
              data: summary,
            }),
          );
        }
        process.stdout.write(json ? `${JSON.stringify(summary, null, 2)}\n` : `${text}\n`);
        process.exitCode = exitCode;
      } finally {
        await client.close();
        await prepared.close();
      }
    });
}

export function capacityText(s: CapacitySummary): string {
  const lines = [
    `capacity of ${s.cell ?? "the target"} (${s.scenario}, SLO ${s.slo}, errors ≤ ${s.maxError}):`,
    "OFFERED/s  ACHIEVED req/s     P50 ms     P99 ms   FAILED  GEN LAG P99 ms  RESULT",
  ];
  for (const st of [...s.steps].sort((a, b) => a.rate - b.rate)) {
    lines.push(
      `${String(st.rate).padStart(9)} ${String(st.achievedPerSecond).padStart(15)} ${String(st.p50 ?? "-").padStart(10)} ${String(st.p99 ?? "-").padStart(10)} ${`${(100 * st.failedRate).toFixed(2)}%`.padStart(8)} ${String(st.generatorLagP99 ?? "-").padStart(15)}  ${st.why}`,
    );
  }
  lines.push("");
  lines.push(
    s.maxRate === null
      ? "no rate held the SLO (not even --start)"
      : `highest rate that held: ${s.maxRate}/s offered, ${s.maxOpsPerSecond} req/s measured`,
  );
  if (s.verify) {
    lines.push(`verify: ${s.verify.pass ? "PASS" : "FAIL"}`);
    for (const l of s.verify.lines) lines.push(`  ${l}`);
  }
  if (s.maxOpsPerSecond !== null && s.cell)
    lines.push(`record it: cellctl cells set-capacity ${s.cell} --max-tps ${Math.floor(s.maxOpsPerSecond)}`);
  return lines.join("\n");
}

function capacityCharts(steps: CapacityStep[]) {
  const sorted = [...steps].sort((a, b) => a.rate - b.rate);
  const x = sorted.map((s) => s.rate);
  return [
    {
      title: "Latency against offered rate (ms)",
      xLabel: "offered iterations/s",
      yLabel: "ms",
      x,
      series: [
        { label: "p50", values: sorted.map((s) => s.p50) },
        { label: "p99", values: sorted.map((s) => s.p99) },
      ],
    },
    {
      title: "Throughput against offered rate",
      xLabel: "offered iterations/s",
      yLabel: "req/s",
      x,
      series: [{ label: "achieved req/s", values: sorted.map((s) => s.achievedPerSecond) }],
    },
    {
      title: "Failed requests (%) against offered rate",
      xLabel: "offered iterations/s",
      yLabel: "%",
      x,
      series: [{ label: "failed %", values: sorted.map((s) => 100 * s.failedRate) }],
    },
  ];
}
