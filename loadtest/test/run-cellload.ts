import { spawn } from "node:child_process";
import { join } from "node:path";

const CELLLOAD = join(new URL("../..", import.meta.url).pathname, "loadtest/bin/cellload.js");

export interface CellloadRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built `cellload` as a process, as a user would, with PATH, HOME and `env` only. A `run` without
 * --warmup gets --warmup 0, so that the tests' small, exact counts are not padded by the default warm-up (the
 * smoke test exercises the warm-up itself).
 */
export function runCellload(args: string[], env: Record<string, string> = {}): Promise<CellloadRun> {
  const argv = args[0] === "run" && !args.includes("--warmup") ? [...args, "--warmup", "0"] : args;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CELLLOAD, ...argv], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        ...(process.env.WALLET_JWT_SECRET ? { WALLET_JWT_SECRET: process.env.WALLET_JWT_SECRET } : {}),
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
