import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL("../fuzz/", import.meta.url));
const root = fileURLToPath(new URL("../..", import.meta.url));
export const SCHEMATHESIS = `${root}.venv/bin/schemathesis`;
export const OPENAPI_DOCUMENT = `${root}docs/openapi.json`;

export interface FuzzOptions {
  /** Base URL of a cell or a router. */
  baseUrl: string;
  /** Bearer token sent with every request (operator + auditor: may touch every wallet). */
  token: string;
  /** Test cases per operation and phase. */
  maxExamples: number;
  seed: number;
  /** Stop after this many seconds (Schemathesis's own budget). */
  maxTimeSeconds?: number;
  /** Transfers: the token user's funded wallet and other users' wallets to send to (cellwallet_hooks.py). */
  transfers?: TransferWallets;
}

export interface TransferWallets {
  payer: string;
  payees: string[];
}

export interface FuzzResult {
  exitCode: number | null;
  output: string;
  generated: number;
  passed: number;
  failures: number;
}

/**
 * Runs Schemathesis (all checks; examples, coverage, fuzzing and stateful phases; positive and negative data)
 * against the committed OpenAPI document, with the repository's schemathesis.toml and e2e/fuzz's hooks.
 */
export function runSchemathesis(options: FuzzOptions): Promise<FuzzResult> {
  if (!existsSync(SCHEMATHESIS)) {
    throw new Error(`${SCHEMATHESIS} is missing: run \`node scripts/setup-test-tools.mjs\` (or npm test) first`);
  }
  const args = [
    "--config-file",
    `${root}schemathesis.toml`,
    "run",
    OPENAPI_DOCUMENT,
    "--url",
    options.baseUrl,
    "--header",
    `Authorization: Bearer ${options.token}`,
    "--checks",
    "all",
    "--mode",
    "all",
    "--phases",
    "examples,coverage,fuzzing,stateful",
    "--max-examples",
    String(options.maxExamples),
    "--seed",
    String(options.seed),
    "--generation-database",
    "none",
    "--workers",
    "1",
    "--no-color",
    "--output-truncate",
    "false",
    ...(options.maxTimeSeconds !== undefined ? ["--max-time", String(options.maxTimeSeconds)] : []),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(SCHEMATHESIS, args, {
      cwd: here,
      env: {
        ...process.env,
        PYTHONPATH: here,
        SCHEMATHESIS_HOOKS: "cellwallet_hooks",
        NO_COLOR: "1",
        CELLWALLET_FUZZ_PAYER: options.transfers?.payer ?? "",
        CELLWALLET_FUZZ_PAYEES: options.transfers?.payees.join(",") ?? "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      output += d.toString();
    });
    child.once("error", reject);
    child.once("close", (exitCode) => {
      // The closing summary, e.g. "Test cases:\n  1419 generated, 1419 passed, 18 skipped".
      const summary = output.split("SUMMARY").at(-1) ?? "";
      const number = (re: RegExp) => Number(re.exec(summary)?.[1] ?? 0);
      resolve({
        exitCode,
        output,
        generated: number(/(\d+) generated/),
        passed: number(/(\d+) passed/),
        failures: number(/(\d+) failures?\b/),
      });
    });
  });
}
