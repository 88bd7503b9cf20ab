/**
 * The cell benchmark: `npm run bench:cell -- [--adapter sqlite|dynamodb|all] [--duration s]
 * [--connections n] [--quick] [--json]`. For each store adapter it starts one real cell-service
 * process (and, for DynamoDB, a moto server), creates wallets, drives deposits,
 * transfers and reads with cellload's engine (closed model), then checks the cell's invariants against
 * the client's own books. For DynamoDB it also serves a cell in this process to
 * count DynamoDB calls and capacity per API operation. Around each adapter's
 * scenarios it measures the framework ceiling (bare hono, ceiling.ts) at the same
 * connections, so throughput is also given as a ratio measured in the same run,
 * with CPU µs per operation and RSS of the cell. Prints Markdown tables (to
 * stderr with --json, which prints one JSON document on stdout); exits non-zero
 * when an invariant fails or the cell answered 500.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { type AdapterName, type BenchOptions, parseBenchArgs, USAGE } from "./bench/args.js";
import { Books, type ResolutionStats } from "./bench/book.js";
import { cellJsonReport, measureCeilingAround } from "./bench/cell-figures.js";
import { commitDelta, commitText, scrapeCommits } from "./bench/cell-metrics.js";
import { type InProcessReport, measureDynamoDbInProcess } from "./bench/dynamo-inprocess.js";
import {
  asRequest,
  BENCH_JWT_SECRET,
  createWallets,
  depositOp,
  seedWallets,
  tokenFor,
  transferOp,
  type Verification,
  verifyCell,
} from "./bench/fixtures.js";
import { CpuMeter } from "./bench/machine.js";
import { type ManagedProcess, startCellProcess, startMoto } from "./bench/processes.js";
import { dynamoTable, header, itemSizeText, resolutionText, type ScenarioRow, scenarioTable } from "./bench/report.js";
import { readMemory } from "./bench/resources.js";
import { type BenchWallet, type BuiltRequest, prng, runScenario } from "./bench/scenarios.js";

interface AdapterOutcome {
  adapter: AdapterName;
  rows: ScenarioRow[];
  verification: Verification;
  serverErrorSamples: string[];
  cellErrorLogs: string[];
  inProcess?: InProcessReport;
  /** Framework-ceiling rows measured before and after this adapter's scenarios. */
  ceilingRows: ScenarioRow[];
}

function cellEnv(adapter: AdapterName, dir: string, motoUrl?: string): Record<string, string> {
  const common = { CELL_ID: `bench-${adapter}`, LOG_LEVEL: "warn", WALLET_JWT_SECRET: BENCH_JWT_SECRET };
  if (adapter === "sqlite") {
    return { ...common, WALLET_STORE: "sqlite", WALLET_SQLITE_PATH: join(dir, "ledger.sqlite") };
  }
  if (!motoUrl) throw new Error("dynamodb needs moto");
  return {
    ...common,
    WALLET_STORE: "dynamodb",
    DYNAMODB_ENDPOINT: motoUrl,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
  };
}

/** With --json the Markdown report goes to stderr and stdout carries only the JSON document. */
let toStderr = false;
const log = (text = "") => (toStderr ? console.error(text) : console.log(text));

/** Error-level JSON log lines of the cell process (a 500 is logged as "bug"). */
function errorLogs(output: string): string[] {
  return output
    .split("\n")
    .filter((line) => /"level":"(error|fatal)"/.test(line) || /^(Error|TypeError|RangeError)/.test(line))
    .slice(0, 10)
    .map((line) => line.slice(0, 800));
}

/** What each scenario sends: deposits (1 and N connections), same-cell transfers and GETs on random wallets. */
function cellScenarios(
  wallets: BenchWallet[],
  operator: string,
  random: () => number,
): { name: string; connections?: number; next: () => BuiltRequest }[] {
  const pick = (): BenchWallet => wallets[Math.floor(random() * wallets.length)] as BenchWallet;
  const pair = (): [BenchWallet, BenchWallet] => {
    const from = pick();
    let to = pick();
    while (to === from) to = pick();
    return [from, to];
  };
  return [
    {
      name: "deposit, 1 connection",
      connections: 1,
      next: () => asRequest(depositOp(pick(), operator, BigInt(1 + Math.floor(random() * 10_000)), "deposit")),
    },
    {
      name: "deposit",
      // 0.01 .. 100.00, each with its own Idempotency-Key.
      next: () => asRequest(depositOp(pick(), operator, BigInt(1 + Math.floor(random() * 10_000)), "deposit")),
    },
    {
      name: "transfer (same cell)",
      // 0.01 .. 5.00 from a random wallet (its owner's token) to another.
      next: () => {
        const [from, to] = pair();
        return asRequest(transferOp(from, to, BigInt(1 + Math.floor(random() * 500))));
      },
    },
    {
      name: "GET wallet",
      next: () => {
        const wallet = pick();
        return { method: "GET" as const, path: `/api/v1/wallets/${wallet.walletId}`, token: wallet.token };
      },
    },
  ];
}

async function benchAdapter(adapter: AdapterName, options: BenchOptions): Promise<AdapterOutcome> {
  log(`\n## ${adapter}\n`);
  let moto: ManagedProcess | undefined;
  let cell: ManagedProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), "cellwallet-bench-"));
  const random = prng(options.seed);
  try {
    if (adapter === "dynamodb") {
      moto = await startMoto(options.rawMoto);
      log(
        `moto server: ${moto.url} (pid ${moto.pid}), ${options.rawMoto ? "plain moto_server (--raw-moto)" : "requests serialized"}`,
      );
    }
    cell = await startCellProcess(cellEnv(adapter, dir, moto?.url));
    log(
      `cell-service process: ${cell.url} (pid ${cell.pid}), store ${adapter}${adapter === "sqlite" ? ` at ${dir}` : ""}`,
    );

    const books = new Books();
    const operator = await tokenFor("bench-operator", "wallet:operator");
    const setupStart = Date.now();
    const wallets = await createWallets(cell.url, books, operator, options.wallets, adapter);
    await seedWallets(cell.url, books, operator, wallets);
    log(`${wallets.length} wallets created and seeded in ${Date.now() - setupStart} ms`);

    const url = cell.url;
    const common = { url, durationS: options.duration, connections: options.connections, books };
    const scenarios = cellScenarios(wallets, operator, random);
    const rows: ScenarioRow[] = [];
    const serverErrorSamples: string[] = [];
    const cellPid = cell.pid;
    const ceiling = await measureCeilingAround(options, operator, log, async () => {
      for (const scenario of scenarios) {
        const connections = scenario.connections ?? options.connections;
        log(`running ${scenario.name} for ${options.duration} s with ${connections} connection(s)…`);
        const commitsBefore = adapter === "sqlite" ? await scrapeCommits(url) : undefined;
        const meter = new CpuMeter({ cell: cellPid, moto: moto?.pid });
        const result = await runScenario({ ...common, ...scenario, connections });
        const cpu = meter.read();
        const commitsAfter = adapter === "sqlite" ? await scrapeCommits(url) : undefined;
        const commits = commitDelta(commitsBefore, commitsAfter, result.durationS);
        const memory = readMemory(cellPid);
        const resolution: ResolutionStats = await books.resolveOpen(url);
        const row: ScenarioRow = { adapter, result, resolution, cpu, memory, ...(commits ? { commits } : {}) };
        rows.push(row);
        serverErrorSamples.push(...result.serverErrors);
        log(scenarioTable([row]));
        log(`  outcomes: ${resolutionText(resolution)}`);
        if (commits) log(`  ${commitText(commits)}`);
      }
    });

    log("\nverifying invariants…");
    const verification = await verifyCell(url, books, operator, wallets);
    const failures = books.unexpectedFailures();
    if (failures.size > 0) {
      verification.lines.push(`unexpected refusals before the operation ran: ${[...failures.entries()].join("; ")}`);
    }
    for (const line of verification.lines) log(`  ${line}`);
    const cellErrorLogs = errorLogs(cell.output());
    const outcome: AdapterOutcome = {
      adapter,
      rows,
      verification,
      serverErrorSamples,
      cellErrorLogs,
      ceilingRows: ceiling,
    };
    await cell.stop();
    cell = undefined;

    if (adapter === "dynamodb" && moto) {
      log("\nin-process DynamoDB accounting phase (calls and capacity per API operation)…");
      outcome.inProcess = await measureDynamoDbInProcess({
        endpoint: moto.url,
        samples: options.dynamoSamples,
        wallets: options.wallets,
        connections: options.connections,
        seed: options.seed,
      });
      log(dynamoTable(outcome.inProcess.kinds));
      log(`item sizes written (DynamoDB rules): ${itemSizeText(outcome.inProcess.kinds, outcome.inProcess.cellId)}`);
      for (const line of outcome.inProcess.verification.lines) log(`  in-process cell: ${line}`);
    }
    return outcome;
  } finally {
    await cell?.stop();
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  let options: BenchOptions | "help";
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    log(USAGE);
    return 0;
  }
  toStderr = options.json;
  log(header(process.argv));
  log(
    `- settings: adapters ${options.adapters.join(", ")}; ${options.duration} s per scenario; ` +
      `${options.connections} connections; ${options.wallets} wallets; seed ${options.seed}` +
      (options.quick ? " (--quick)" : "") +
      (options.rawMoto ? " (--raw-moto)" : ""),
  );

  const outcomes: AdapterOutcome[] = [];
  for (const adapter of options.adapters) outcomes.push(await benchAdapter(adapter, options));

  log("\n## Summary\n");
  log(scenarioTable(outcomes.flatMap((o) => o.rows)));
  let pass = true;
  for (const o of outcomes) {
    if (o.inProcess) {
      log(`\nDynamoDB per API operation (in-process cell on moto; capacity ESTIMATED from item sizes, see notes):\n`);
      log(dynamoTable(o.inProcess.kinds));
      log(`\nitem sizes written (DynamoDB rules): ${itemSizeText(o.inProcess.kinds, o.inProcess.cellId)}`);
      log(
        "\nnotes: moto reports 0 consumed capacity for TransactWriteItems, so RCU/WCU are estimated from the documented " +
          "rules: strongly consistent read = 1 RCU per 4 KB (per item for GetItem/BatchGetItem, per result for Query, " +
          "min 1 even when nothing is found); transactional write = 2 WCU per 1 KB of each item, plus each secondary " +
          "index entry written (projected attributes + 100 B, per 1 KB; 2x for the entries' LSIs, 1x for the sparse " +
          "pending-transfers GSI, which same-cell transfers never enter); no transactional reads (TransactGetItems) " +
          "are made; cancelled transactions (contention) are counted but not included in the estimate. " +
          "moto's own figures: 0.5 per GetItem whatever ConsistentRead says, 0 for TransactWriteItems.",
      );
    }
  }
  const figures = cellJsonReport(outcomes, options, true);
  log(figures.markdown);
  log("\n## Verdict\n");
  for (const o of outcomes) {
    const internal = o.rows.flatMap((r) =>
      [...r.result.problems.entries()].filter(([label]) => label.startsWith("500")),
    );
    const unavailable = o.rows.flatMap((r) =>
      [...r.result.problems.entries()].filter(([label]) => label.startsWith("5") && !label.startsWith("500")),
    );
    const checks: [string, boolean][] = [
      ["invariants (books, sum of balances, audit)", o.verification.pass],
      ["no 500 internal-error", internal.length === 0],
    ];
    if (o.inProcess) checks.push(["in-process DynamoDB cell invariants", o.inProcess.verification.pass]);
    for (const [label, ok] of checks) {
      log(`- ${o.adapter}: ${label}: ${ok ? "PASS" : "FAIL"}`);
      if (!ok) pass = false;
    }
    if (unavailable.length > 0) {
      log(`- ${o.adapter}: other 5xx (documented, retryable): ${unavailable.map(([l, n]) => `${l} ×${n}`).join(", ")}`);
    }
    for (const sample of o.serverErrorSamples) log(`  5xx body: ${sample}`);
    for (const line of o.cellErrorLogs) log(`  cell error log: ${line}`);
  }
  log(
    `\nload average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  log(`\n${pass ? "PASS" : "FAIL"}`);
  if (options.json) console.log(JSON.stringify({ ...(figures.json as object), pass }, null, 2));
  return pass ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error("bench-cell failed:", error);
    process.exitCode = 1;
  },
);
