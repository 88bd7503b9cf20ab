import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LauncherProcessStatus, launcherStatusPath, readLauncherStatus } from "@cellwallet/control-plane/local";
import { freeLayout, TEST_PLATFORM_ENV } from "./platform.js";

const root = new URL("../../", import.meta.url).pathname;

/** `npm start` as a user runs it (control-plane/dist/local/start-local.js), on free ports in a temp data dir. */
export interface Launcher {
  child: ChildProcess;
  base: number;
  dataDir: string;
  env: Record<string, string>;
  /** Everything the launcher printed so far (its processes are quiet at LOG_LEVEL=warn). */
  output(): string;
  api(azIndex?: number): string;
  processes(): LauncherProcessStatus[];
  process(name: string): LauncherProcessStatus;
  /** Polls the status file until `predicate` holds for `name`. */
  waitFor(name: string, predicate: (p: LauncherProcessStatus) => boolean, timeoutMs?: number): Promise<void>;
  /** Ctrl-C; resolves with the exit code. */
  stop(): Promise<number | null>;
}

export async function startLauncher(extraEnv: Record<string, string> = {}): Promise<Launcher> {
  const base = extraEnv.ROUTER_PORT ? Number(extraEnv.ROUTER_PORT) : await freeLayout(2, 3);
  const dataDir = extraEnv.WALLET_DATA_DIR ?? mkdtempSync(join(tmpdir(), "cellwallet-launcher-"));
  const env = {
    WALLET_DATA_DIR: dataDir,
    ROUTER_PORT: String(base),
    LOCAL_CELL_BASE_PORT: String(base + 10),
    ...TEST_PLATFORM_ENV,
    LOG_LEVEL: "error",
    ...extraEnv,
  };
  const child = spawn(process.execPath, [join(root, "control-plane/dist/local/start-local.js")], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`launcher not ready: ${out}`)), 90_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes("Press Ctrl-C to stop.")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`launcher exited ${code}: ${out}`)));
  });
  const statusPath = launcherStatusPath(dataDir);
  const processes = () => readLauncherStatus(statusPath)?.processes ?? [];
  const find = (name: string) => {
    const p = processes().find((q) => q.name === name);
    if (!p) throw new Error(`launcher reports no ${name}`);
    return p;
  };
  return {
    child,
    base,
    dataDir,
    env,
    output: () => out,
    api: (azIndex = 0) => `http://127.0.0.1:${base + azIndex}`,
    processes,
    process: find,
    async waitFor(name, predicate, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(find(name))) {
        if (Date.now() > deadline) throw new Error(`${name} still ${JSON.stringify(find(name))}\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once("exit", (code) => resolve(code));
        child.kill("SIGINT");
      });
    },
  };
}
