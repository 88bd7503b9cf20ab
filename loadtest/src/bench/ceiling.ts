import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { Books } from "./book.js";
import { CpuMeter } from "./machine.js";
import { benchNodeArgs, cleanEnv, type ManagedProcess, REPO_ROOT } from "./processes.js";
import type { ScenarioRow } from "./report.js";
import { readMemory } from "./resources.js";
import { runScenario } from "./scenarios.js";

/**
 * The HTTP framework's ceiling on this machine, measured in the same run as the cell (or the router) so
 * that ratios to it hold whatever else the shared machine is doing: bare hono on @hono/node-server
 * (ceiling-server.ts) in its own process, driven by the same load engine, connections and duration.
 */

export const CEILING_POST = "ceiling: JSON POST";
export const CEILING_GET = "ceiling: JSON GET";

/** Starts loadtest/dist/bench/ceiling-server.js and waits for the URL it prints. */
export async function startCeilingProcess(): Promise<ManagedProcess> {
  const main = `${REPO_ROOT}loadtest/dist/bench/ceiling-server.js`;
  if (!existsSync(main)) throw new Error(`${main} not found: build first (npx tsc -b)`);
  const child = spawn(process.execPath, [...benchNodeArgs(), main], {
    env: cleanEnv(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ceiling server did not start: ${output}`)), 30_000);
    child.stdout?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-8192);
      const match = /listening (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.stderr?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-8192);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`ceiling server exited ${code}: ${output}`));
    });
  });
  return {
    url,
    pid: child.pid,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill("SIGKILL"), 5_000);
        child.once("exit", () => {
          clearTimeout(force);
          resolve();
        });
        child.kill("SIGTERM");
      }),
  };
}

/** A deposit-sized JSON body with a bearer header (ignored by the ceiling server, but sent and parsed as bytes). */
const POST_BODY = JSON.stringify({ amount: "12.34", reference: "bench deposit" });

/**
 * Runs the ceiling's POST and GET at `connections` for `durationS` each (after a short warm-up, so the
 * JIT has compiled the paths as it has the cell's), reading the server's CPU and RSS.
 */
export async function measureCeiling(options: {
  url: string;
  pid: number | undefined;
  durationS: number;
  connections: number;
  token: string;
  /** Row label (first column), e.g. "ceiling". */
  label: string;
}): Promise<ScenarioRow[]> {
  const books = new Books();
  const post = () => ({ method: "POST" as const, path: "/echo/w-1", token: options.token, body: POST_BODY });
  const get = () => ({ method: "GET" as const, path: "/echo/w-1", token: options.token });
  const common = { url: options.url, connections: options.connections, books };
  await runScenario({ ...common, name: "warm-up", durationS: 1, next: post });
  await runScenario({ ...common, name: "warm-up", durationS: 1, next: get });
  const rows: ScenarioRow[] = [];
  for (const [name, next] of [
    [CEILING_POST, post],
    [CEILING_GET, get],
  ] as const) {
    const meter = new CpuMeter({ server: options.pid });
    const result = await runScenario({ ...common, name, durationS: options.durationS, next });
    const cpu = meter.read();
    rows.push({
      adapter: options.label,
      result,
      cpu: { cell: cpu.server, self: cpu.self },
      memory: readMemory(options.pid),
    });
  }
  return rows;
}

/** Starts the ceiling server, measures it once (POST and GET) and stops it. */
export async function measureCeilingPhase(
  options: { duration: number; connections: number },
  token: string,
  log: (text?: string) => void,
  when: string,
): Promise<ScenarioRow[]> {
  const ceiling = await startCeilingProcess();
  try {
    log();
    return await measureRunningCeiling(ceiling, options, token, log, when);
  } finally {
    await ceiling.stop();
  }
}

/** One measurement (POST and GET) of a running ceiling server, announced in the log. */
export function measureRunningCeiling(
  ceiling: Pick<ManagedProcess, "url" | "pid">,
  options: { duration: number; connections: number },
  token: string,
  log: (text?: string) => void,
  when: string,
): Promise<ScenarioRow[]> {
  log(`framework ceiling (${when}): bare hono at ${ceiling.url} (pid ${ceiling.pid}), ${options.duration} s each…`);
  return measureCeiling({
    url: ceiling.url,
    pid: ceiling.pid,
    durationS: options.duration,
    connections: options.connections,
    token,
    label: `ceiling (${when})`,
  });
}
