import { mkdtempSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalPlatform } from "@cellwallet/control-plane/local";
import { describe, expect, it } from "vitest";
import { runNodeScript } from "../../test-support/cellctl.js";
import { freeLayout } from "./platform.js";

const START_LOCAL = new URL("../../control-plane/dist/local/start-local.js", import.meta.url).pathname;

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A platform whose start fails (here a router's port is taken) leaves nothing running: before, its cell
 * processes stayed up, orphaned, holding their ports and files after the test (or `npm start`) had failed.
 */
describe("a local platform that cannot start", () => {
  it("stops every process it had started and reports the failure", async () => {
    const base = await freeLayout(2, 2);
    // Something else holding a router's port: accepts connections (the start's readiness probe) and never answers.
    const squatter: Server = createServer();
    const sockets = new Set<import("node:net").Socket>();
    squatter.on("connection", (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => squatter.listen(base + 1, "127.0.0.1", () => resolve()));
    const platform = new LocalPlatform({
      dataDir: mkdtempSync(join(tmpdir(), "cellwallet-start-failure-")),
      cells: 2,
      azs: ["az-1", "az-2"],
      routerPort: base,
      cellBasePort: base + 10,
      capacity: 100,
      stdio: "ignore",
      env: { LOG_LEVEL: "warn" },
    });
    try {
      await expect(platform.start()).rejects.toThrow(/EADDRINUSE|exited/);
      const cellPorts = platform.processes.filter((p) => p.kind === "cell").map((p) => p.port);
      expect(cellPorts).toHaveLength(4);
      expect(await Promise.all(cellPorts.map(portIsFree))).toEqual([true, true, true, true]);
      expect(await portIsFree(base)).toBe(true);
      expect(
        platform.processes.every(
          (p) => p.child === undefined || p.child.exitCode !== null || p.child.signalCode !== null,
        ),
      ).toBe(true);
    } finally {
      await platform.stop().catch(() => undefined);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  }, 60_000);

  it.each([
    ["LOCAL_CELLS", "0", 'LOCAL_CELLS must be a whole number of at least 1, got "0"'],
    ["LOCAL_AZS", "az-1,,az-2", 'LOCAL_AZS must name distinct AZs separated by commas, got "az-1,,az-2"'],
    ["LOCAL_RESTART_MAX_MS", "soon", 'LOCAL_RESTART_MAX_MS must be a whole number of at least 500, got "soon"'],
  ])(
    "npm start with %s=%s: exit 1 with one line, nothing started",
    async (name, value, message) => {
      const dataDir = mkdtempSync(join(tmpdir(), "cellwallet-bad-setting-"));
      const run = await runNodeScript(START_LOCAL, [], { WALLET_DATA_DIR: dataDir, [name]: value });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`the local platform failed to start: ${message}\n`);
      expect(run.stdout).toBe("");
      expect(readdirSync(dataDir)).toEqual([]);
    },
    30_000,
  );
});
