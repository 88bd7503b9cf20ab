import { Command } from "commander";
import type { Load } from "./engine.js";
import {
  parseCellId,
  parseDuration,
  parsePositiveInteger,
  parseRamp,
  parseRate,
  parseTargetUrl,
  UsageError,
} from "./options.js";
import { prepareOutDir } from "./out-dir.js";
import { runLoad } from "./run-command.js";
import { loadScenario } from "./scenarios/load.js";
import { DEFAULT_THRESHOLDS } from "./slo-defaults.js";
import { parseThreshold } from "./thresholds.js";
import { fileTokens, mintingTokens } from "./tokens.js";

interface RunFlags {
  target?: string;
  cell?: string;
  rate?: string;
  vus?: string;
  duration: string;
  ramp?: string;
  warmup: string;
  maxInFlight: string;
  threshold?: string[];
  out?: string;
  json?: boolean;
  tokenFile?: string;
  abortOnFail?: boolean;
  verify?: boolean;
  users: string;
  seed: string;
  timeout: string;
}

/** The executor the flags ask for: --rate (constant arrival rate), --ramp (ramping, from --rate or 0) or --vus (closed). */
export function loadFromFlags(flags: Pick<RunFlags, "rate" | "vus" | "duration" | "ramp" | "maxInFlight">): Load {
  if (flags.vus !== undefined && (flags.rate !== undefined || flags.ramp !== undefined)) {
    throw new UsageError("--vus (closed model) cannot be combined with --rate or --ramp (open model)");
  }
  const durationMs = parseDuration(flags.duration, "--duration");
  if (flags.vus !== undefined) return { model: "closed", vus: parsePositiveInteger(flags.vus, "--vus"), durationMs };
  const maxInFlight = parsePositiveInteger(flags.maxInFlight, "--max-in-flight");
  if (flags.ramp !== undefined) {
    const ramp = parseRamp(flags.ramp);
    return {
      model: "open",
      rate: flags.rate === undefined ? undefined : parseRate(flags.rate),
      ramp,
      durationMs: ramp.reduce((a, s) => a + s.durationMs, 0),
      maxInFlight,
    };
  }
  return { model: "open", rate: parseRate(flags.rate ?? "10"), ramp: undefined, durationMs, maxInFlight };
}

const collect = (value: string, all: string[] = []) => [...all, value];

export function runCommand(env: NodeJS.ProcessEnv): Command {
  return new Command("run")
    .description("Run a scenario against a router or a cell, check thresholds and (money scenarios) the books")
    .argument("<scenario>", "a built-in scenario (cellload scenarios) or a path to a .js/.ts module")
    .option("--target <url>", "router or cell base URL, e.g. http://127.0.0.1:8080")
    .option("--cell <cellId>", "place every virtual user in this cell (placement override, or a cell URL as target)")
    .option(
      "--rate <n>",
      "open model: iterations per second (100, 100/s, or 5/m per minute); with --ramp the start rate (default 10)",
    )
    .option("--vus <n>", "closed model: this many virtual users, each iterating back to back")
    .option("--duration <d>", "how long to offer load (30s, 2m); ignored with --ramp", "30s")
    .option("--ramp <stages>", "open model, ramping: <duration>:<rate>,... e.g. 30s:100,1m:500,30s:0")
    .option("--warmup <d>", "unmeasured warm-up before the run, at a tenth of the rate (0 for none)", "5s")
    .option("--max-in-flight <n>", "open model: most iterations running at once (beyond: dropped, counted)", "1000")
    .option("--threshold <expr>", "k6-style threshold, repeatable (replaces the defaults from docs/slo.md)", collect)
    .option("--out <dir>", "write summary.json, report.html and report.svg (a static plot for Markdown) there")
    .option("--json", "print summary.json to stdout instead of the table")
    .option("--token-file <path>", 'tokens from an identity provider: {"operator": jwt, "users": {userId: jwt}}')
    .option("--abort-on-fail", "stop as soon as a threshold fails (judged every second after 2 s)")
    .option("--verify", "check the books after the run (default for money scenarios)")
    .option("--no-verify", "skip the books check")
    .option("--users <n>", "virtual users (wallets) to create", "20")
    .option("--seed <n>", "seed of the request mix", "1")
    .option("--timeout <d>", "per-request timeout", "10s")
    .addHelpText(
      "after",
      `
Thresholds: <metric>[{tag:value}]:<aggregation><op><number>. Metrics: http_req_duration (ms; p(N), avg,
min, max, med), http_req_failed (rate), checks (rate), http_reqs, iterations, dropped_iterations,
iteration_errors (count, rate). Tags: op, cell. An iteration that throws (a scenario's own error) counts as a
failed check too. Without --threshold: ${DEFAULT_THRESHOLDS.join("  ")}

Tokens are minted with WALLET_JWT_SECRET (the local development secret when unset), or read from --token-file.
--cell through a router pins users with placement overrides in the store named by PLACEMENT_SQLITE_PATH
(or PLACEMENT_STORE=dynamodb), as for cellctl.

A warm-up (--warmup, default 5s, at a tenth of the rate or a quarter of the VUs) runs first and is not measured:
a cold process is not the steady state an SLO is about. Its operations are in the books and verified. Use
--warmup 0 to measure a cold start.

Exit status: 0 passed, 99 a threshold failed, 1 --verify found a discrepancy (even if a threshold failed too),
2 usage error or target unreachable, 130 interrupted (Ctrl-C stops the load, then the summary and the books
check still run; a second Ctrl-C quits at once).

Examples:
  $ cellload run journey --target http://127.0.0.1:8080 --rate 100 --duration 20s --out ./report
  $ cellload run transfer-same-cell --target http://127.0.0.1:8080 --cell cell-2 --ramp 10s:50,20s:200
  $ cellload run read-mostly --target http://127.0.0.1:8080 --vus 16 --duration 1m --threshold 'http_req_duration{op:history}:p(95)<50'
  $ cellload run ./my-scenario.js --target https://wallet.example.com --token-file tokens.json --json`,
    )
    .action(async (scenarioName: string, flags: RunFlags) => {
      if (flags.target === undefined) throw new UsageError("--target <url> is required (a router or cell URL)");
      const target = parseTargetUrl(flags.target);
      const cell = flags.cell === undefined ? undefined : parseCellId(flags.cell);
      const load = loadFromFlags(flags);
      const warmupMs = /^0+(ms|s|m|h)?$/.test(flags.warmup.trim()) ? 0 : parseDuration(flags.warmup, "--warmup");
      const thresholds = (flags.threshold ?? [...DEFAULT_THRESHOLDS]).map(parseThreshold);
      const users = parsePositiveInteger(flags.users, "--users");
      if (users < 2) throw new UsageError("--users must be at least 2 (transfers need a pair)");
      const seed = parsePositiveInteger(flags.seed, "--seed");
      const timeoutMs = parseDuration(flags.timeout, "--timeout");
      const scenario = await loadScenario(scenarioName);
      const tokens = flags.tokenFile ? fileTokens(flags.tokenFile) : mintingTokens(env);
      if (flags.out) prepareOutDir(flags.out);
      const { exitCode } = await runLoad({
        scenario,
        target,
        cell,
        load,
        warmupMs,
        thresholds,
        out: flags.out,
        json: flags.json ?? false,
        abortOnFail: flags.abortOnFail ?? false,
        verify: flags.verify ?? scenario.money,
        users,
        seed,
        timeoutMs,
        tokens,
        env,
      });
      process.exitCode = exitCode;
    });
}
