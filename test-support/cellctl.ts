import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export const CELLCTL = join(new URL("..", import.meta.url).pathname, "control-plane/bin/cellctl.js");

export interface CellctlRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A Node script of the repo running as a process: the child, its exit, and its output so far. */
export interface RunningScript {
  child: ChildProcess;
  done: Promise<CellctlRun & { signal: NodeJS.Signals | null }>;
  output(): { stdout: string; stderr: string };
}

/**
 * Starts a Node script of the repo (a CLI's bin) as a process, as a user would, with a minimal environment (PATH,
 * HOME) plus `env`: nothing leaks in from the test runner. For a test that signals it or reads it while it runs.
 */
export function spawnNodeScript(script: string, args: string[], env: Record<string, string> = {}): RunningScript {
  const child = spawn(process.execPath, [script, ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const done = new Promise<CellctlRun & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

/** Runs a Node script of the repo as a process (see spawnNodeScript) to its end. */
export async function runNodeScript(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CellctlRun> {
  const { code, stdout, stderr } = await spawnNodeScript(script, args, env).done;
  return { code, stdout, stderr };
}

/** Runs the built `cellctl` as a process (see runNodeScript). */
export function runCellctl(args: string[], env: Record<string, string> = {}): Promise<CellctlRun> {
  return runNodeScript(CELLCTL, args, env);
}
