import { Command } from "commander";
import { type CapacityOptions, measureCapacity } from "./capacity.js";
import { capacityText, writeCapacityOutputs } from "./capacity-report.js";
import { parseCellId, parseDuration, parsePositiveInteger, parseRate, parseTargetUrl, UsageError } from "./options.js";
import { prepareOutDir } from "./out-dir.js";
import { loadScenario } from "./scenarios/load.js";
import { parseThreshold, type Threshold } from "./thresholds.js";
import { fileTokens, mintingTokens } from "./tokens.js";

/** `cellload capacity`'s command line; the search itself is measureCapacity (capacity.ts). */

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

/** Parses and checks every flag (a UsageError, exit 2, on the first bad one) before anything is sent. */
async function capacityOptions(flags: CapacityFlags, env: NodeJS.ProcessEnv): Promise<CapacityOptions> {
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
  if (maxRate < start) throw new UsageError(`--max-rate (${maxRate}/s) must be at least --start (${start}/s)`);
  const stepMs = parseDuration(flags.stepDuration, "--step-duration");
  const refine = Number(flags.refine);
  if (!(Number.isInteger(refine) && refine >= 0 && refine <= 10))
    throw new UsageError("--refine must be an integer 0..10");
  const users = parsePositiveInteger(flags.users, "--users");
  const maxInFlight = parsePositiveInteger(flags.maxInFlight, "--max-in-flight");
  const timeoutMs = parseDuration(flags.timeout, "--timeout");
  const scenario = await loadScenario(flags.scenario);
  const tokens = flags.tokenFile ? fileTokens(flags.tokenFile) : mintingTokens(env);
  if (flags.out) prepareOutDir(flags.out);
  return {
    scenario,
    target,
    cell,
    slo,
    maxError,
    start,
    factor,
    maxRate,
    stepMs,
    refine,
    users,
    maxInFlight,
    timeoutMs,
    tokens,
    env,
    verify: flags.verify,
    json: flags.json ?? false,
  };
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
Exit status: 0 a rate held (maxRate reported), 99 even --start broke the SLO, 1 --verify found a discrepancy
(even if no rate held), 2 usage error or target unreachable, 130 interrupted (Ctrl-C: the steps so far, the
highest that held as a lower bound, the books still checked; a second Ctrl-C quits at once).

The capacity is found (found: true) only when a step broke the SLO above the highest that held; then record it:
cellctl cells set-capacity <cell> --max-tps <maxOpsPerSecond>. When every step held up to --max-rate, the rate
is only a lower bound (found: false): raise --max-rate; never record a lower bound.

Examples:
  $ cellload capacity --target http://127.0.0.1:8080 --cell cell-1 --slo 'p(99)<100' --max-error 0.001
  $ cellload capacity --target http://127.0.0.1:9101 --scenario deposit --start 50 --step-duration 5s --out ./capacity`,
    )
    .action(async function capacityAction(flags: CapacityFlags) {
      const summary = await measureCapacity(await capacityOptions(flags, env));
      const text = capacityText(summary);
      process.stdout.write(flags.json ? `${JSON.stringify(summary, null, 2)}\n` : `${text}\n`);
      if (flags.out) writeCapacityOutputs(flags.out, summary, text);
      process.exitCode = summary.exitCode;
    });
}
