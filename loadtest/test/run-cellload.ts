import { join } from "node:path";
import { type CellctlRun, runNodeScript } from "../../test-support/cellctl.js";

export const CELLLOAD = join(new URL("../..", import.meta.url).pathname, "loadtest/bin/cellload.js");

export type CellloadRun = CellctlRun;

/**
 * Runs the built `cellload` as a process, as a user would, with PATH, HOME (and WALLET_JWT_SECRET when the runner
 * has one) plus `env`. A `run` without --warmup gets --warmup 0, so that the tests' small, exact counts are not
 * padded by the default warm-up (the smoke test exercises the warm-up itself).
 */
export function runCellload(args: string[], env: Record<string, string> = {}): Promise<CellloadRun> {
  const argv = args[0] === "run" && !args.includes("--warmup") ? [...args, "--warmup", "0"] : args;
  return runNodeScript(CELLLOAD, argv, {
    ...(process.env.WALLET_JWT_SECRET ? { WALLET_JWT_SECRET: process.env.WALLET_JWT_SECRET } : {}),
    ...env,
  });
}
