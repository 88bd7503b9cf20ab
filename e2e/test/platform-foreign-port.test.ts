import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { INSTANCE_HEADER } from "@cellwallet/contract";
import { LocalPlatform } from "@cellwallet/control-plane/local";
import { describe, expect, it } from "vitest";
import { freeLayout } from "./platform.js";

const root = new URL("../../", import.meta.url).pathname;

/**
 * Another platform's process on a port this one needs: it answers 200 to /ready (and to everything), the way
 * a cell or router of a second `npm start` does. Binds as soon as the port is free (after a kill).
 */
function foreignServer(port: number): Promise<{ server: Server; probes: () => number; close(): Promise<void> }> {
  let probes = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    if (req.url === "/ready") probes += 1;
    res.writeHead(200, { "content-type": "application/json", [INSTANCE_HEADER]: "someone-else" });
    res.end(JSON.stringify({ status: "ready", version: "dev" }));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  return new Promise((resolve) => {
    const attempt = () => server.listen(port, "127.0.0.1");
    server.on("error", () => setTimeout(attempt, 5));
    server.once("listening", () =>
      resolve({
        server,
        probes: () => probes,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
          }),
      }),
    );
    attempt();
  });
}

/** Pids of live processes whose environment holds `entry` (here: this test's data dir), from /proc. */
function processesWith(entry: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/environ`, "latin1").split("\0").includes(entry);
      } catch {
        return false; // gone meanwhile, or not ours
      }
    })
    .map(Number);
}

async function refused(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/health`).then(
    () => false,
    () => true,
  );
}

/** `npm start` (start-local.js) on 1 cell x 1 AZ; resolves when it exits or (the bug) reports itself running. */
function npmStart(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child: ChildProcess = spawn(process.execPath, [join(root, "control-plane/dist/local/start-local.js")], {
    env: { ...process.env, LOCAL_CELLS: "1", LOCAL_AZS: "az-1", LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGINT"), 60_000);
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes("Cellwallet is running")) child.kill("SIGINT"); // the bug: stop it, fail below
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The ports of this platform held by another platform's processes, which answer /ready too: the launcher
 * must not report that platform's processes as its own. Every process it launches echoes a per-launch id
 * (Cellwallet-Instance) on /ready; only that answer is "ready".
 */
describe("a port held by another platform's process", () => {
  it.each([
    ["cell-1/az-1", 10, "LOCAL_CELL_BASE_PORT"],
    ["router/az-1", 0, "ROUTER_PORT"],
  ])(
    "npm start fails with one line naming %s's port and the variable to change, nothing left running",
    async (name, offset, variable) => {
      expect(existsSync("/proc/self/environ")).toBe(true);
      const base = await freeLayout(1, 1);
      const port = base + offset;
      const foreign = await foreignServer(port);
      const dataDir = mkdtempSync(join(tmpdir(), "cellwallet-foreign-port-"));
      try {
        const run = await npmStart({
          WALLET_DATA_DIR: dataDir,
          ROUTER_PORT: String(base),
          LOCAL_CELL_BASE_PORT: String(base + 10),
        });
        expect(run.stdout).not.toContain("Cellwallet is running");
        expect(run.code).toBe(1);
        const lines = run.stderr.trim().split("\n");
        const last = lines.at(-1) ?? "";
        expect(last).toMatch(new RegExp(`^the local platform failed to start: ${name.replace("/", "\\/")}: `));
        expect(last).toContain(`port ${port} is held by another process`);
        expect(last).toContain(`set ${variable} to free ports`);
        // Nothing of this platform is left: its other port refuses, no process with its data dir runs.
        expect(await refused(offset === 0 ? base + 10 : base)).toBe(true);
        expect(processesWith(`WALLET_DATA_DIR=${dataDir}`)).toEqual([]);
        // The other platform's process was asked, and left alone.
        expect(foreign.probes()).toBeGreaterThan(0);
        expect((await fetch(`http://127.0.0.1:${port}/ready`)).headers.get(INSTANCE_HEADER)).toBe("someone-else");
      } finally {
        await foreign.close();
      }
    },
    90_000,
  );

  it("a supervised restart does not take another process on its port for its own: it keeps failing, then recovers", async () => {
    const base = await freeLayout(1, 1);
    const platform = new LocalPlatform({
      dataDir: mkdtempSync(join(tmpdir(), "cellwallet-foreign-restart-")),
      cells: 1,
      azs: ["az-1"],
      routerPort: base,
      cellBasePort: base + 10,
      capacity: 100,
      stdio: "ignore",
      env: { LOG_LEVEL: "warn" },
      // A second between restarts: the foreign server surely binds the killed cell's port before the restart.
      restart: { initialMs: 1000, maxMs: 1000 },
    });
    const events: string[] = [];
    platform.onSupervisorEvent = (e) => events.push(e.type === "exited" ? `exited: ${e.reason}` : "restarted");
    let foreign: Awaited<ReturnType<typeof foreignServer>> | undefined;
    try {
      await platform.start();
      const cell = platform.find("cell-1/az-1");
      const first = await fetch(`http://127.0.0.1:${cell.port}/ready`);
      expect(first.status).toBe(200);
      expect(first.headers.get(INSTANCE_HEADER)).toBe(cell.instance);

      cell.child?.kill("SIGKILL");
      foreign = await foreignServer(cell.port); // binds as soon as the killed cell let go of the port
      const until = async (what: string, holds: () => boolean) => {
        const deadline = Date.now() + 45_000;
        while (!holds()) {
          if (Date.now() > deadline) throw new Error(`${what}: ${JSON.stringify(events)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await until(
        "two failed restarts",
        () => events.filter((e) => e.startsWith("exited: restart failed")).length >= 2,
      );
      expect(events).not.toContain("restarted");
      expect(events[0]).toBe("exited: SIGKILL");
      expect(events[1]).toMatch(
        new RegExp(`^exited: restart failed: cell-1/az-1: .*port ${cell.port} is held by another process`),
      );
      expect(foreign.probes()).toBeGreaterThan(0);

      await foreign.close();
      foreign = undefined;
      await until("the restart once the port is free", () => events.includes("restarted"));
      const back = await fetch(`http://127.0.0.1:${cell.port}/ready`);
      expect(back.status).toBe(200);
      expect(back.headers.get(INSTANCE_HEADER)).toBe(cell.instance);
      expect(cell.instance).not.toBe(first.headers.get(INSTANCE_HEADER));
    } finally {
      await platform.stop();
      await foreign?.close();
    }
  }, 120_000);
});
