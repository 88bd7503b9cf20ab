/**
 * Tracing's cost on the cell: `npm run bench:tracing -- [--duration s] [--rounds n] [--connections n]`.
 * The cell benchmark's engine (bench/: a real cell-service process on the embedded store, cellload-engine scenarios,
 * the client's books) run alternately with tracing OFF (no OTEL_* variable: the default) and ON
 * (OTEL_EXPORTER_OTLP_ENDPOINT pointing at a loopback OTLP/HTTP sink in this process, every request sampled),
 * in one run, so that the ratios compare like with like on the same machine; ON both with every request sampled
 * and with 10% (parentbased_traceidratio). `--baseline <checkout>` adds a build of an earlier release (its
 * cell-service/dist/main.js) as a fourth mode: the cost of tracing's code when it is off; `--modes previous,off`
 * runs only some modes. Prints Markdown tables.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Books } from "./bench/book.js";
import { asRequest, BENCH_JWT_SECRET, createWallets, depositOp, seedWallets, tokenFor } from "./bench/fixtures.js";
import { startCellProcess } from "./bench/processes.js";
import { type BenchWallet, prng, runScenario, type ScenarioResult } from "./bench/scenarios.js";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "5" },
    rounds: { type: "string", default: "2" },
    connections: { type: "string", default: "16" },
    baseline: { type: "string" },
    modes: { type: "string" },
  },
});
const baseline = values.baseline ? join(values.baseline, "cell-service/dist/main.js") : undefined;
const duration = Number(values.duration);
const rounds = Number(values.rounds);
const connections = Number(values.connections);
if (![duration, rounds, connections].every((n) => Number.isInteger(n) && n > 0)) {
  console.error("usage: npm run bench:tracing -- [--duration s] [--rounds n] [--connections n] (positive integers)");
  process.exit(2);
}

/** A loopback OTLP/HTTP receiver that counts and discards what the cell exports. */
async function startSink() {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on("data", (d: Buffer) => {
      bytes += d.length;
    });
    req.on("end", () => {
      requests += 1;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, stats: () => ({ requests, bytes }), close: () => server.close() };
}

type Mode = "previous release" | "off" | "on 10%" | "on 100%";
interface Row {
  mode: Mode;
  scenario: string;
  result: ScenarioResult;
}

async function round(mode: Mode, sinkUrl: string, seed: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), "cellwallet-bench-tracing-"));
  const env: Record<string, string> = {
    CELL_ID: "bench-tracing",
    WALLET_JWT_SECRET: BENCH_JWT_SECRET,
    WALLET_STORE: "sqlite",
    WALLET_SQLITE_PATH: join(dir, "ledger.sqlite"),
    ...(mode.startsWith("on") ? { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl } : {}),
    ...(mode === "on 10%" ? { OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" } : {}),
  };
  const cell = await startCellProcess(env, ...(mode === "previous release" && baseline ? [baseline] : []));
  try {
    const books = new Books();
    const operator = await tokenFor("bench-operator", "wallet:operator");
    const wallets = await createWallets(cell.url, books, operator, 50, `tr${seed}`);
    await seedWallets(cell.url, books, operator, wallets);
    const random = prng(seed);
    const pick = (): BenchWallet => wallets[Math.floor(random() * wallets.length)] as BenchWallet;
    const common = { url: cell.url, durationS: duration, connections, books };
    const deposit = await runScenario({
      ...common,
      name: "deposit",
      next: () => asRequest(depositOp(pick(), operator, BigInt(1 + Math.floor(random() * 10_000)), "deposit")),
    });
    const read = await runScenario({
      ...common,
      name: "GET wallet",
      next: () => {
        const w = pick();
        return { method: "GET" as const, path: `/api/v1/wallets/${w.walletId}`, token: w.token };
      },
    });
    return [
      { mode, scenario: "deposit", result: deposit },
      { mode, scenario: "GET wallet", result: read },
    ];
  } finally {
    await cell.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

async function main(): Promise<void> {
  const sink = await startSink();
  const all: Mode[] = [...(baseline ? (["previous release"] as const) : []), "off", "on 10%", "on 100%"];
  // --modes previous,off,10,100 picks some of them (the ratios need both sides of a pair).
  const picked = values.modes
    ?.split(",")
    .map((m) => ({ previous: "previous release", "10": "on 10%", "100": "on 100%" })[m] ?? m);
  const modes = picked ? all.filter((m) => picked.includes(m)) : all;
  console.log(`# Tracing off vs on (cell-service, embedded store)\n`);
  console.log(
    `- command: npm run bench:tracing -- --duration ${duration} --rounds ${rounds} --connections ${connections}` +
      (values.baseline ? ` --baseline ${values.baseline}` : ""),
  );
  console.log(`- ${rounds} rounds of: ${modes.join(", ")} (a fresh cell process each), ${duration} s per scenario\n`);
  const rows: Row[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const mode of modes) {
      console.log(`round ${i + 1}, tracing ${mode}…`);
      rows.push(...(await round(mode, sink.url, i + 1)));
    }
  }
  console.log("\n| scenario | tracing | round | req/s | p50 ms | p99 ms | non-2xx |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  rows.forEach((r, i) => {
    const n = Math.floor(i / (2 * modes.length)) + 1;
    const { rps, p50, p99, non2xx } = r.result;
    console.log(`| ${r.scenario} | ${r.mode} | ${n} | ${rps.toFixed(0)} | ${p50} | ${p99} | ${non2xx} |`);
  });
  console.log("\n| scenario | compared | req/s ratio | p50 ratio | p99 ratio |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const scenario of ["deposit", "GET wallet"]) {
    const of = (mode: Mode) => rows.filter((r) => r.scenario === scenario && r.mode === mode).map((r) => r.result);
    const pairs: [Mode, Mode][] = [
      ...(baseline ? ([["off", "previous release"]] as [Mode, Mode][]) : []),
      ["on 10%", "off"],
      ["on 100%", "off"],
    ];
    for (const [a, b] of pairs.filter(([x, y]) => modes.includes(x) && modes.includes(y))) {
      const ratio = (f: (r: ScenarioResult) => number) => mean(of(a).map(f)) / mean(of(b).map(f));
      console.log(
        `| ${scenario} | ${a} / ${b} | ${ratio((r) => r.rps).toFixed(3)} | ${ratio((r) => r.p50).toFixed(3)} | ${ratio((r) => r.p99).toFixed(3)} |`,
      );
    }
  }
  const { requests, bytes } = sink.stats();
  if (modes.some((m) => m.startsWith("on"))) {
    console.log(
      `\nOTLP sink received ${requests} export requests (${(bytes / 1e6).toFixed(1)} MB) while tracing was on.`,
    );
  }
  sink.close();
  if (rows.some((r) => r.result.non2xx > 0 && r.scenario === "GET wallet")) process.exitCode = 1;
}

main().catch((error) => {
  console.error("bench-tracing failed:", error);
  process.exitCode = 1;
});
