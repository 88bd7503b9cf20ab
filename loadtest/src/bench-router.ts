/**
 * The router-overhead benchmark: `npm run bench:router -- [--duration s] [--connections n]
 * [--wallets n] [--seed n] [--quick] [--json]`. Starts the local platform (control-plane's
 * LocalPlatform) with two cells and ONE AZ on the embedded SQLite store, the
 * router's rate limit off, and pins the benchmark's users to the cells with
 * placement overrides. Every same-cell scenario then runs twice with the same
 * wallets, request mix, connections and duration: (a) directly against cell-1's
 * replica, (b) through the router in front of it, so the only difference is the
 * router hop. Cross-cell transfers (no direct equivalent) run through the router
 * only. Prints Markdown tables, checks the invariants against the client's
 * books through the router, and exits non-zero on a failed invariant, any 5xx or
 * a process that died. The framework ceiling (bare hono, ceiling.ts) is measured
 * before and after the pairs; --json prints one JSON document on stdout (the
 * Markdown report then goes to stderr).
 */
import { loadavg } from "node:os";
import { parseRouterBenchArgs, ROUTER_USAGE, type RouterBenchOptions } from "./bench/args.js";
import { Books } from "./bench/book.js";
import { measureCeilingPhase } from "./bench/ceiling.js";
import { createWallets, seedWallets, tokenFor, userIdsFor, verifyCell } from "./bench/fixtures.js";
import { CpuMeter } from "./bench/machine.js";
import { type BenchPlatform, startBenchPlatform } from "./bench/platform.js";
import {
  header,
  type OverheadRow,
  overheadTable,
  resolutionText,
  type ScenarioRow,
  type ScenarioTableOptions,
  scenarioTable,
} from "./bench/report.js";
import { readMemory } from "./bench/resources.js";
import { routerReport } from "./bench/router-figures.js";
import { type RouterSnapshot, routerDelta, routerDeltaText, scrapeRouter } from "./bench/router-metrics.js";
import { crossCellScenario, type Scenario, sameCellScenarios } from "./bench/router-scenarios.js";
import { type BenchWallet, prng, runScenario } from "./bench/scenarios.js";

/** With --json the Markdown report goes to stderr and stdout carries only the JSON document. */
let toStderr = false;
const log = (text = "") => (toStderr ? console.error(text) : console.log(text));

const SOURCE_CELL = "cell-1";
const OTHER_CELL = "cell-2";
const ROUTER = "router/az-1";

const TABLE: ScenarioTableOptions = {
  first: "path",
  cpu: [
    { key: "router", label: "router" },
    { key: SOURCE_CELL, label: SOURCE_CELL },
    { key: OTHER_CELL, label: OTHER_CELL },
    { key: "self", label: "load generator" },
    { key: "other", label: "other" },
  ],
};

type Path = "direct" | "router";

/** % of one core that other processes may use during a run before its measurement is repeated. */
const OTHER_CPU_LIMIT = 25;
const MAX_ATTEMPTS = 3;

interface Run {
  row: ScenarioRow;
  routerView?: RouterSnapshot;
}

/** Each cell's wallets: users pinned to it by override, wallets created and seeded through the router. */
async function pinnedWallets(
  bench: BenchPlatform,
  options: RouterBenchOptions,
  books: Books,
  operator: string,
): Promise<{ source: BenchWallet[]; other: BenchWallet[]; all: BenchWallet[] }> {
  const routerUrl = bench.routerUrl;
  const setupStart = Date.now();
  const walletsOf = new Map<string, BenchWallet[]>();
  for (const [cellId, prefix] of [
    [SOURCE_CELL, "rb1"],
    [OTHER_CELL, "rb2"],
  ] as const) {
    await bench.pin(userIdsFor(prefix, options.wallets), cellId);
    const wallets = await createWallets(routerUrl, books, operator, options.wallets, prefix);
    const misplaced = wallets.filter((w) => !w.walletId.endsWith(`-${cellId}`));
    if (misplaced.length > 0) throw new Error(`${misplaced.length} wallets of ${prefix} are not in ${cellId}`);
    await seedWallets(routerUrl, books, operator, wallets);
    walletsOf.set(cellId, wallets);
  }
  const source = walletsOf.get(SOURCE_CELL) as BenchWallet[];
  const other = walletsOf.get(OTHER_CELL) as BenchWallet[];
  const all = [...source, ...other];
  log(`- ${all.length} wallets created and seeded through the router in ${Date.now() - setupStart} ms`);
  return { source, other, all };
}

/** PASS only with the books exact, no 5xx seen by the client or answered by the router, and no process lost. */
function verdict(
  everyRun: Run[],
  invariantsHold: boolean,
  unexpectedExits: readonly string[],
  serverErrorSamples: readonly string[],
): boolean {
  log("\n## Verdict\n");
  const rows = everyRun.map((r) => r.row);
  const serverErrors = rows.flatMap((r) =>
    [...r.result.problems.entries()]
      .filter(([label]) => label.startsWith("5"))
      .map(([label, n]) => `${r.adapter} ${r.result.name}: ${label} ×${n}`),
  );
  const router5xx = everyRun.flatMap(({ row, routerView }) =>
    routerView
      ? [...routerView.edge5xx.entries()].map(([k, n]) => `${row.result.name}: router answered ${k} ×${n}`)
      : [],
  );
  const checks: [string, boolean][] = [
    ["invariants (books, sum of balances, audit) for every wallet", invariantsHold],
    ["no 5xx seen by the client", serverErrors.length === 0],
    ["no 5xx in the router's metrics", router5xx.length === 0],
    ["no process exited", unexpectedExits.length === 0],
  ];
  let pass = true;
  for (const [label, ok] of checks) {
    log(`- ${label}: ${ok ? "PASS" : "FAIL"}`);
    if (!ok) pass = false;
  }
  for (const line of [...serverErrors, ...router5xx, ...unexpectedExits]) log(`  ${line}`);
  for (const sample of serverErrorSamples) log(`  5xx body: ${sample}`);
  const connectionErrors = rows.filter((r) => r.result.errors > 0 || r.result.timeouts > 0);
  for (const r of connectionErrors) {
    log(
      `- note: ${r.adapter} ${r.result.name}: ${r.result.errors} errors, ${r.result.timeouts} timeouts (load generator)`,
    );
  }
  log(
    `\nload average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  log(`\n${pass ? "PASS" : "FAIL"}`);
  return pass;
}

/** Whether other processes disturbed this measurement (then it is repeated, up to MAX_ATTEMPTS). */
function repeatNote(attempt: number, runs: Run[]): boolean {
  const worst = Math.max(...runs.map((r) => r.row.cpu?.other ?? 0));
  if (worst <= OTHER_CPU_LIMIT) return false;
  log(
    `  other processes used ${worst.toFixed(0)}% of a core (limit ${OTHER_CPU_LIMIT}%) during this ` +
      (attempt < MAX_ATTEMPTS
        ? `measurement: repeating it (attempt ${attempt + 1} of ${MAX_ATTEMPTS})`
        : "last attempt: kept, marked"),
  );
  return true;
}

/** The summary tables and the figures against the targets (markdown on the log, JSON for --json). */
function summarize(
  pairs: OverheadRow[],
  views: { scenario: string; view: RouterSnapshot | undefined }[],
  crossRun: Run,
  ceilingRows: Parameters<typeof routerReport>[2],
  options: RouterBenchOptions,
): ReturnType<typeof routerReport> {
  log("\n## Summary\n");
  log(`Router overhead, same-cell scenarios (${SOURCE_CELL} direct vs. through the router):\n`);
  log(overheadTable(pairs, { cell: SOURCE_CELL, router: "router" }, OTHER_CPU_LIMIT));
  log(
    `\n"other CPU %" is the whole machine's CPU (/proc/stat) minus the router's, the cells' and the load generator's: ` +
      `other processes. A pair is repeated (up to ${MAX_ATTEMPTS} attempts) when it exceeds ${OTHER_CPU_LIMIT}% ` +
      "in either run; * marks a pair still disturbed at the last attempt.",
  );
  log("\nThe runs reported (CPU in % of one core, from /proc):\n");
  log(scenarioTable([...pairs.flatMap((p) => [p.direct, p.router]), crossRun.row], TABLE));
  log("\nThe router's own view of each via-router run (its /metrics, read before and after):\n");
  for (const { scenario, view } of views) if (view) log(`- ${scenario}: ${routerDeltaText(view)}`);

  const figures = routerReport(pairs, { cell: SOURCE_CELL, router: "router" }, ceilingRows, options);
  log(figures.markdown);
  return figures;
}

async function main(): Promise<number> {
  let options: RouterBenchOptions | "help";
  try {
    options = parseRouterBenchArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${ROUTER_USAGE}`);
    return 2;
  }
  if (options === "help") {
    log(ROUTER_USAGE);
    return 0;
  }
  toStderr = options.json;
  log(
    header(process.argv, {
      title: "Cellwallet router overhead benchmark",
      npmScript: "bench:router",
      sharing:
        "load generator (cellload engine), router and cell processes share the same machine: through the router, " +
        "three busy processes compete for the CPUs",
    }),
  );
  log(
    `- settings: ${options.duration} s per run; ${options.connections} connections (both paths); ` +
      `${options.wallets} wallets per cell, 2 cells, 1 AZ; SQLite; router rate limit off; LOG_LEVEL=warn; seed ${options.seed}` +
      (options.quick ? " (--quick)" : ""),
  );

  const bench: BenchPlatform = await startBenchPlatform(2);
  try {
    return await measure(bench, options);
  } finally {
    await bench.stop();
  }
}

async function measure(bench: BenchPlatform, options: RouterBenchOptions): Promise<number> {
  const routerUrl = bench.routerUrl;
  const directUrl = bench.cellUrl(SOURCE_CELL);
  const pids = {
    router: bench.pid(ROUTER),
    [SOURCE_CELL]: bench.pid(`${SOURCE_CELL}/az-1`),
    [OTHER_CELL]: bench.pid(`${OTHER_CELL}/az-1`),
  };
  log(
    `- platform in ${bench.dir}: router ${routerUrl} (pid ${pids.router}); ` +
      `${SOURCE_CELL} ${directUrl} (pid ${pids[SOURCE_CELL]}); ` +
      `${OTHER_CELL} ${bench.cellUrl(OTHER_CELL)} (pid ${pids[OTHER_CELL]})`,
  );

  // Users pinned by placement override, wallets created and seeded through the router.
  const books = new Books();
  const operator = await tokenFor("bench-operator", "wallet:operator");
  const { source, other, all } = await pinnedWallets(bench, options, books, operator);

  const serverErrorSamples: string[] = [];
  const run = async (scenario: Scenario, path: Path, seed: number, durationS: number): Promise<Run> => {
    const url = path === "direct" ? directUrl : routerUrl;
    const connections = scenario.connections ?? options.connections;
    const before = path === "router" ? await scrapeRouter(routerUrl) : undefined;
    const meter = new CpuMeter(pids);
    const result = await runScenario({
      name: scenario.name,
      url,
      durationS,
      connections,
      books,
      next: scenario.build(prng(seed)),
    });
    const cpu = meter.read();
    const memory = readMemory(path === "router" ? pids.router : pids[SOURCE_CELL]);
    // The whole machine's CPU minus ours: other processes (and the kernel's own work) during the run.
    if (cpu.machine !== undefined) {
      const ours = ["router", SOURCE_CELL, OTHER_CELL, "self"].reduce((sum, key) => sum + (cpu[key] ?? 0), 0);
      cpu.other = Math.max(0, cpu.machine - ours);
    }
    const routerView = before ? routerDelta(before, await scrapeRouter(routerUrl)) : undefined;
    const resolution = await books.resolveOpen(url);
    serverErrorSamples.push(...result.serverErrors);
    return {
      row: { adapter: path === "direct" ? "direct" : "via router", result, resolution, cpu, memory },
      routerView,
    };
  };
  const show = (r: Run) => {
    log(scenarioTable([r.row], TABLE));
    if (r.row.resolution) log(`  outcomes: ${resolutionText(r.row.resolution)}`);
    if (r.routerView) log(`  ${routerDeltaText(r.routerView)}`);
  };

  // Warm-up (not reported): every same-cell scenario through the router, which runs the cell's code paths too.
  const same = sameCellScenarios(source, operator);
  const warmS = Math.min(2, options.duration);
  log(`\nwarm-up: each same-cell scenario through the router for ${warmS} s (not reported)…`);
  /** Every run, warm-up and repeated ones included: a 5xx in any of them fails the verdict. */
  const everyRun: Run[] = [];
  for (const [i, scenario] of same.entries()) {
    everyRun.push(await run(scenario, "router", options.seed + 1000 + i, warmS));
  }

  const ceilingRows = await measureCeilingPhase(options, operator, log, "before");
  const pairs: OverheadRow[] = [];
  const views: { scenario: string; view: RouterSnapshot | undefined }[] = [];
  const measured = async (scenario: Scenario, path: Path, seed: number): Promise<Run> => {
    const r = await run(scenario, path, seed, options.duration);
    everyRun.push(r);
    show(r);
    return r;
  };
  for (const [i, scenario] of same.entries()) {
    const connections = scenario.connections ?? options.connections;
    log(`\n## ${scenario.name}: ${options.duration} s, ${connections} connection(s), direct then via router\n`);
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      // The same seed on both paths (and attempts): the same wallets and amounts in the same order.
      const direct = await measured(scenario, "direct", options.seed + i);
      const routed = await measured(scenario, "router", options.seed + i);
      const disturbed = repeatNote(attempt, [direct, routed]);
      if (!disturbed || attempt === MAX_ATTEMPTS) {
        pairs.push({ scenario: scenario.name, direct: direct.row, router: routed.row, attempts: attempt });
        views.push({ scenario: scenario.name, view: routed.routerView });
        break;
      }
    }
  }

  ceilingRows.push(...(await measureCeilingPhase(options, operator, log, "after")));

  const cross = crossCellScenario(source, other);
  log(`\n## ${cross.name}: ${options.duration} s, ${options.connections} connections, via router only\n`);
  let crossRun = await measured(cross, "router", options.seed + 100);
  for (let attempt = 1; repeatNote(attempt, [crossRun]) && attempt < MAX_ATTEMPTS; attempt++) {
    crossRun = await measured(cross, "router", options.seed + 100);
  }
  views.push({ scenario: cross.name, view: crossRun.routerView });
  const transit = await books.settleInTransit(routerUrl, operator);
  log(
    `  cross-cell: ${transit.accepted} answered 202 (credit not confirmed within the cell's credit timeout), ` +
      `then ${transit.completed} COMPLETED, ${transit.failed} FAILED (refunded), ${transit.unknown} still PENDING; ` +
      "the others were answered 201 COMPLETED or refused at once",
  );

  log("\nverifying invariants through the router (every wallet of both cells)…");
  const verification = await verifyCell(routerUrl, books, operator, all);
  const failures = books.unexpectedFailures();
  if (failures.size > 0) {
    verification.lines.push(`unexpected refusals before the operation ran: ${[...failures.entries()].join("; ")}`);
  }
  for (const line of verification.lines) log(`  ${line}`);

  const figures = summarize(pairs, views, crossRun, ceilingRows, options);

  const pass = verdict(everyRun, verification.pass, bench.unexpectedExits, serverErrorSamples);
  if (options.json) console.log(JSON.stringify({ ...(figures.json as object), pass }, null, 2));
  return pass ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error("bench-router failed:", error);
    process.exitCode = 1;
  },
);
