import { parseArgs } from "node:util";

export type AdapterName = "sqlite" | "dynamodb";

export interface BenchOptions {
  adapters: AdapterName[];
  /** Seconds per scenario. */
  duration: number;
  connections: number;
  wallets: number;
  /** Operations of each kind in the sequential in-process DynamoDB accounting phase. */
  dynamoSamples: number;
  /** Seed of the request mix (which wallets, which amounts), so runs are comparable. */
  seed: number;
  quick: boolean;
  /** Plain moto_server (no request serialization): shows moto's missing transaction isolation. */
  rawMoto: boolean;
  /** Print one JSON document on stdout (the Markdown report goes to stderr). */
  json: boolean;
}

export const USAGE = `Usage: npm run bench:cell -- [options]
  --adapter sqlite|dynamodb|all   store adapters to benchmark (default all)
  --duration <s>                  seconds per scenario (default 10)
  --connections <n>               concurrent connections, closed model (default 32)
  --wallets <n>                   wallets per cell (default 50)
  --dynamo-samples <n>            operations per kind in the in-process DynamoDB accounting phase (default 20)
  --seed <n>                      seed of the request mix (default 1)
  --quick                         smoke run: 2 s per scenario, 10 samples
  --json                          print one JSON document on stdout (figures, ratios to the framework
                                  ceiling, targets); the Markdown report goes to stderr
  --raw-moto                      plain moto_server instead of the serialized one (expect FAIL: moto does
                                  not isolate concurrent transactions; for demonstrating that only)
  --help                          this text`;

function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return parsed;
}

/** Parses the command line; throws with a readable message on anything unknown or malformed. */
export function parseBenchArgs(argv: string[]): BenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      adapter: { type: "string", default: "all" },
      duration: { type: "string" },
      connections: { type: "string" },
      wallets: { type: "string" },
      "dynamo-samples": { type: "string" },
      seed: { type: "string" },
      quick: { type: "boolean", default: false },
      "raw-moto": { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return "help";
  const adapter = values.adapter ?? "all";
  let adapters: AdapterName[];
  if (adapter === "all") adapters = ["sqlite", "dynamodb"];
  else if (adapter === "sqlite" || adapter === "dynamodb") adapters = [adapter];
  else throw new Error(`--adapter must be sqlite, dynamodb or all, got ${adapter}`);
  const quick = values.quick ?? false;
  const wallets = positiveInteger("wallets", values.wallets, 50);
  if (wallets < 2) throw new Error("--wallets must be at least 2 (transfers need a pair)");
  return {
    adapters,
    quick,
    rawMoto: values["raw-moto"] ?? false,
    json: values.json ?? false,
    duration: positiveInteger("duration", values.duration, quick ? 2 : 10),
    connections: positiveInteger("connections", values.connections, 32),
    wallets,
    dynamoSamples: positiveInteger("dynamo-samples", values["dynamo-samples"], quick ? 10 : 20),
    seed: positiveInteger("seed", values.seed, 1),
  };
}

/** Options of the router-overhead benchmark (bench-router.ts). */
export interface RouterBenchOptions {
  /** Seconds per run (each scenario runs twice: direct and through the router). */
  duration: number;
  connections: number;
  /** Wallets per cell (two cells). */
  wallets: number;
  seed: number;
  quick: boolean;
  /** Print one JSON document on stdout (the Markdown report goes to stderr). */
  json: boolean;
}

export const ROUTER_USAGE = `Usage: npm run bench:router -- [options]
  --duration <s>       seconds per run; every scenario runs once direct and once through the router (default 10)
  --connections <n>    concurrent connections (closed model), the same for both paths (default 32)
  --wallets <n>        wallets per cell, two cells (default 50)
  --seed <n>           seed of the request mix: both paths of a scenario get the same mix (default 1)
  --quick              smoke run: 2 s per run
  --json               print one JSON document on stdout (figures, ratios, targets); the report goes to stderr
  --help               this text`;

/** Parses the router benchmark's command line; throws with a readable message on anything unknown or malformed. */
export function parseRouterBenchArgs(argv: string[]): RouterBenchOptions | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: "string" },
      connections: { type: "string" },
      wallets: { type: "string" },
      seed: { type: "string" },
      quick: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return "help";
  const quick = values.quick ?? false;
  const wallets = positiveInteger("wallets", values.wallets, 50);
  if (wallets < 2) throw new Error("--wallets must be at least 2 (transfers need a pair)");
  return {
    quick,
    json: values.json ?? false,
    duration: positiveInteger("duration", values.duration, quick ? 2 : 10),
    connections: positiveInteger("connections", values.connections, 32),
    wallets,
    seed: positiveInteger("seed", values.seed, 1),
  };
}
