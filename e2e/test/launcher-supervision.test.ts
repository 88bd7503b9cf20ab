import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { SqlitePlacementStore } from "@cellwallet/placement";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { depositClients, unavailabilityWindowMs } from "./deposit-clients.js";
import { type Launcher, startLauncher } from "./launcher-process.js";

/**
 * `npm start` supervises like an orchestrator: every process of one cell is
 * SIGKILLed under traffic and comes back by itself while the other cell's
 * users see nothing; a process that cannot start crash-loops with a capped,
 * growing backoff that `cellctl cells describe` shows; Ctrl-C still stops all.
 */
const USERS = ["u0", "u1", "u2", "u3"]; // even → cell-1, odd → cell-2
const CELL2_USERS = new Set(["u1", "u3"]);

/** Takes a port (accepting connections, never answering) until release(). */
function holdPort(port: number): Promise<{ release(): Promise<void> }> {
  return new Promise((resolve) => {
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
    const release = () =>
      new Promise<void>((done) => {
        server.close(() => done());
        for (const socket of sockets) socket.destroy();
      });
    const attempt = () => server.listen(port, "127.0.0.1");
    server.on("error", () => setTimeout(attempt, 5)); // until the killed process let go of it
    server.once("listening", () => resolve({ release }));
    attempt();
  });
}

describe("the launcher restarts crashed processes (npm start as a process)", () => {
  let launcher: Launcher;
  const users = new Map<string, { walletId: string; token: string }>();

  beforeAll(async () => {
    launcher = await startLauncher({ LOCAL_RESTART_MAX_MS: "2000", LOCAL_RESTART_RESET_MS: "4000" });
    const placement = new SqlitePlacementStore({ path: join(launcher.dataDir, "control-plane", "placement.sqlite") });
    for (const [i, user] of USERS.entries()) await placement.setOverride(user, i % 2 === 0 ? "cell-1" : "cell-2");
    await placement.close();
    for (const user of USERS) {
      const t = await token(user);
      const created = await http(launcher.api(), "POST", "/api/v1/wallets", { token: t, body: { userId: user } });
      expect(created.status).toBe(201);
      users.set(user, { walletId: created.body.walletId, token: t });
    }
  }, 120_000);

  afterAll(async () => {
    if (launcher) await launcher.stop();
  });

  it("a whole cell SIGKILLed comes back by itself; only its users see 503 + Retry-After; nothing lost or doubled", async () => {
    const before = launcher.processes().filter((p) => p.cellId === "cell-2");
    expect(before.map((p) => p.state)).toEqual(["running", "running", "running"]);
    const clients = depositClients(
      [0, 1, 2].map((j) => launcher.api(j)),
      users,
    );
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = Date.now();
    for (const p of before) process.kill(p.pid as number, "SIGKILL");
    for (const p of before) {
      await launcher.waitFor(p.name, (q) => q.state === "running" && q.restarts === 1 && q.pid !== p.pid);
    }
    const backAt = Date.now();
    // Every cell-2 user gets a 201 again through the routers (however long the routers' health probes take).
    const deadline = Date.now() + 30_000;
    while (
      ![...CELL2_USERS].every((u) => clients.answers.some((a) => a.user === u && a.status === 201 && a.atMs > backAt))
    ) {
      if (Date.now() > deadline) throw new Error("cell-2 users not served again");
      await new Promise((r) => setTimeout(r, 100));
    }
    await clients.stop();

    for (const p of before) {
      expect(launcher.output()).toContain(`${p.name} exited unexpectedly (SIGKILL); restarting in 0.5 s`);
      expect(launcher.output()).toContain(`${p.name} restarted (pid ${launcher.process(p.name).pid}, restart 1)`);
    }
    expect(launcher.child.exitCode).toBeNull();
    // The other cell's processes were never touched, its users saw only 201.
    for (const p of launcher.processes().filter((q) => q.cellId === "cell-1" || q.kind === "router")) {
      expect(p).toMatchObject({ state: "running", restarts: 0 });
    }
    for (const a of clients.answers.filter((x) => !CELL2_USERS.has(x.user))) expect(a.status).toBe(201);
    // The dead cell's users saw 201 or 503 with Retry-After, and were served again afterwards.
    for (const a of clients.answers.filter((x) => CELL2_USERS.has(x.user))) {
      expect(a.status === 201 || (a.status === 503 && a.retryAfter !== null), JSON.stringify(a)).toBe(true);
    }
    for (const user of CELL2_USERS) {
      expect(clients.answers.some((a) => a.user === user && a.status === 201 && a.atMs > backAt)).toBe(true);
    }
    const window = unavailabilityWindowMs(clients.answers, CELL2_USERS);
    console.log(`cell-2 SIGKILLed: processes back after ${backAt - killedAt} ms; its users' 503 window ${window} ms`);

    // Exactly once: each wallet holds one cent per acknowledged deposit; chains and books clean.
    for (const [user, { walletId, token: t }] of users) {
      const wallet = await http(launcher.api(), "GET", `/api/v1/wallets/${walletId}`, { token: t });
      expect(wallet.body.balance).toBe(((clients.acknowledged.get(user) ?? 0) / 100).toFixed(2));
    }
    const verify = await runCellctl(["verify", "--all"], launcher.env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const reconcile = await runCellctl(["reconcile", "--all"], launcher.env);
    expect(reconcile.code, reconcile.stdout + reconcile.stderr).toBe(0);
  }, 120_000);

  it("a process that cannot start crash-loops with capped backoff, shown by cellctl cells describe, then recovers", async () => {
    // Up longer than LOCAL_RESTART_RESET_MS: its next crash counts as the first again.
    await launcher.waitFor("cell-2/az-1", (p) => Date.now() - Date.parse(p.upSince ?? "") > 4500, 30_000);
    const victim = launcher.process("cell-2/az-1");
    const since = launcher.output().length;
    process.kill(victim.pid as number, "SIGKILL");
    const squatter = await holdPort(victim.port); // its port taken: every restart fails
    await launcher.waitFor("cell-2/az-1", (p) => p.state === "crash-looping" && p.consecutiveCrashes >= 4, 60_000);
    const described = await runCellctl(["cells", "describe", "cell-2", "--sample-ms", "0"], launcher.env);
    expect(described.code).toBe(0);
    // No pid between attempts, a pid during one.
    expect(described.stdout).toMatch(/az-1\s+CRASH-LOOPING\s+(-|\d+)\s+1\s+restart failed/);
    expect(described.stdout).toMatch(/az-2\s+running\s+\d+\s+1\s+SIGKILL/);
    const json = JSON.parse((await runCellctl(["cells", "describe", "cell-2", "--json"], launcher.env)).stdout);
    expect(json.launcher.launcherRunning).toBe(true);

    // The waits double from 0.5 s and stop at the cap (LOCAL_RESTART_MAX_MS=2000).
    const waits = [
      ...launcher
        .output()
        .slice(since)
        .matchAll(/cell-2\/az-1 exited.*restarting in ([0-9.]+) s/g),
    ].map((m) => Number(m[1]));
    expect(waits.slice(0, 4)).toEqual([0.5, 1, 2, 2]);
    expect(launcher.output().slice(since)).toContain("CRASH-LOOPING (3 failures in a row)");

    await squatter.release();
    await launcher.waitFor("cell-2/az-1", (p) => p.state === "running" && p.restarts === 2, 30_000);
    const after = await runCellctl(["cells", "describe", "cell-2", "--sample-ms", "0"], launcher.env);
    expect(after.stdout).toMatch(/az-1\s+running\s+\d+\s+2\s+restart failed/);
    expect(after.stdout).toContain("can lose one AZ: yes (3 of 3 AZs in service)");
  }, 120_000);

  it("Ctrl-C stops every process cleanly and nothing restarts them", async () => {
    const pids = launcher.processes().map((p) => p.pid as number);
    expect(await launcher.stop()).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  }, 60_000);

  it("a failed start of the platform itself (a router's port taken) ends npm start with exit 1, nothing left running", async () => {
    const squatter = await holdPort(launcher.base + 1); // router/az-2's port
    try {
      const failed = await startLauncher({ ...launcher.env }).then(
        () => undefined,
        (error: Error) => error.message,
      );
      expect(failed).toMatch(/launcher exited 1: [\s\S]*the local platform failed to start: .*127\.0\.0\.1:\d+\/ready/);
      // The cells it had started are gone: their ports refuse connections.
      for (const port of [10, 11, 12, 20, 21, 22].map((d) => launcher.base + d)) {
        const refused = await fetch(`http://127.0.0.1:${port}/health`).then(
          () => false,
          () => true,
        );
        expect(refused, `port ${port}`).toBe(true);
      }
    } finally {
      await squatter.release();
    }
  }, 120_000);
});
