import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

/** The repository root (loadtest/dist/bench/ -> ../../..). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no port"));
      server.close(() => resolve(address.port));
    });
  });
}

/** Whether nothing listens on `port` on the loopback interface (a moment ago). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Environment of a child without anything that could change the store, the auth mode or the credentials. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      /^(WALLET_|DYNAMODB_|AWS_|IDEMPOTENCY_|CROSS_CELL_|ROUTER_|CELL_|TRUSTED_PROXIES$|NODE_ENV$|AZ$|PORT$|HOST$)/.test(
        name,
      )
    ) {
      continue;
    }
    env[name] = value;
  }
  return env;
}

export interface ManagedProcess {
  url: string;
  pid: number | undefined;
  /** The last 64 KiB the process wrote to stdout and stderr. */
  output(): string;
  stop(): Promise<void>;
}

function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

async function waitReady(child: ChildProcess, probe: string, ok: (status: number) => boolean, output: () => string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${probe}: process exited ${child.exitCode}: ${output()}`);
    try {
      if (ok((await fetch(probe)).status)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${probe} did not become ready: ${output()}`);
    }
    await sleep(100);
  }
}

function capture(child: ChildProcess): () => string {
  let output = "";
  const append = (d: Buffer) => {
    output = (output + d.toString()).slice(-65_536);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  return () => output;
}

/**
 * Node options for the benchmarked server processes, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"
 * to profile the cell under the benchmark (NODE_OPTIONS refuses --cpu-prof).
 */
export function benchNodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter((a) => a.length > 0);
}

/** Starts the built cell-service (cell-service/dist/main.js, or another build's) as a real process and waits for /ready. */
export async function startCellProcess(
  env: Record<string, string>,
  main = `${REPO_ROOT}cell-service/dist/main.js`,
): Promise<ManagedProcess> {
  const port = await freePort();
  if (!existsSync(main)) throw new Error(`${main} not found: build first (npx tsc -b)`);
  const child = spawn(process.execPath, [...benchNodeArgs(), main], {
    env: { ...cleanEnv(), LOG_LEVEL: "warn", AZ: "az-1", ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = capture(child);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(child, `${url}/ready`, (s) => s === 200, output);
  return { url, pid: child.pid, output, stop: () => stopChild(child, 10_000) };
}

/**
 * Starts moto's DynamoDB server from the project's .venv on a free loopback port, with
 * requests serialized (scripts/moto_serialized_server.py, as the tests do): plain
 * moto_server does not isolate concurrent TransactWriteItems, so under load two
 * conditional transactions interleave between condition check and write — which
 * real DynamoDB never allows — and the ledger's invariants break. `raw` starts
 * plain moto_server anyway, to show exactly that.
 */
export async function startMoto(raw = false): Promise<ManagedProcess> {
  const python = `${REPO_ROOT}.venv/bin/python`;
  const script = `${REPO_ROOT}scripts/moto_serialized_server.py`;
  const bin = `${REPO_ROOT}.venv/bin/moto_server`;
  if (!existsSync(python)) throw new Error(`no virtualenv at ${python}: run 'node scripts/setup-test-tools.mjs'`);
  const port = await freePort();
  const [command, args] = raw
    ? [bin, ["-H", "127.0.0.1", "-p", String(port)]]
    : [python, [script, "127.0.0.1", String(port)]];
  const child = spawn(command, args, {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...cleanEnv(), AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" },
  });
  const output = capture(child);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(child, `${url}/moto-api/`, (s) => s < 500, output);
  return { url, pid: child.pid, output, stop: () => stopChild(child, 10_000) };
}
