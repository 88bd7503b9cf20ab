import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { freePort } from "./moto-server.js";

const root = new URL("..", import.meta.url).pathname;

export interface CellProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the built cell-service (cell-service/dist/main.js, built by `tsc -b` in
 * `npm test`) as a real process and waits until /ready answers 200.
 */
export async function startCellProcess(env: Record<string, string>, port?: number): Promise<CellProcess> {
  const chosen = port ?? (await freePort());
  let output = "";
  const child = spawn(process.execPath, [join(root, "cell-service/dist/main.js")], {
    env: { ...process.env, LOG_LEVEL: "warn", CELL_ID: "cell-test", AZ: "az-1", ...env, PORT: String(chosen) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  });
  child.stderr?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  });
  const url = `http://127.0.0.1:${chosen}`;
  // A cell on DynamoDB makes ~25 calls before it is ready (each table described, TTL checked), to the one moto
  // server every test file shares, which answers one request at a time: behind another file's workload they
  // queue (a start that takes 0.3 s alone once took over 20 s in CI). The bound only has to catch a start that
  // never finishes.
  const started = Date.now();
  const deadline = started + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cell-service exited ${child.exitCode}: ${output}`);
    try {
      if ((await fetch(`${url}/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`cell-service did not become ready in ${Date.now() - started} ms: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port: chosen,
    child,
    output: () => output,
    stop: (signal = "SIGTERM") =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill(signal);
      }),
  };
}
