import { spawn } from "node:child_process";
import { join } from "node:path";

const CELLCTL = join(new URL("..", import.meta.url).pathname, "control-plane/bin/cellctl.js");

export interface CellctlRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a Node script of the repo (a CLI's bin) as a process, as a user would, with a minimal environment (PATH,
 * HOME) plus `env`: nothing leaks in from the test runner.
 */
export function runNodeScript(script: string, args: string[], env: Record<string, string> = {}): Promise<CellctlRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
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

/** Runs the built `cellctl` as a process (see runNodeScript). */
export function runCellctl(args: string[], env: Record<string, string> = {}): Promise<CellctlRun> {
  return runNodeScript(CELLCTL, args, env);
}
