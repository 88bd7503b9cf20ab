import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

const handedOut = new Set<number>();

/**
 * A port that was free a moment ago, for a server a test starts next. Drawn below Linux's ephemeral range
 * (32768-60999), where an outgoing connection or a listen(0) elsewhere could take it before the server binds,
 * and below the e2e platforms' bases (20000-32099); each vitest worker has its own half of 10000-19999, and no
 * port is handed out twice in one process.
 */
export async function freePort(): Promise<number> {
  const worker = (Math.max(1, Number(process.env.VITEST_POOL_ID ?? 1)) - 1) % 2;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10_000 + worker * 5_000 + Math.floor(Math.random() * 5_000);
    // 10080 is the one port in these ranges that fetch refuses ("bad port", WHATWG Fetch); a server there
    // would fail every request a test sends it.
    if (port === 10_080 || handedOut.has(port) || !(await portIsFree(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error("no free port in this worker's range");
}

export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts moto's server (from the project's .venv, requests serialized) on a free loopback port and waits until it answers. */
export async function startMoto(): Promise<MotoServer> {
  const python = join(root, ".venv", "bin", "python");
  if (!existsSync(python)) throw new Error(`no virtualenv at ${python}: run 'node scripts/setup-test-tools.mjs'`);
  const port = await freePort();
  // Requests are serialized so moto keeps DynamoDB's transaction isolation (see the script).
  const script = join(root, "scripts", "moto_serialized_server.py");
  const child: ChildProcess = spawn(python, [script, "127.0.0.1", String(port)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" },
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`moto_server did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
