import type { LocalPlatform, ManagedProcess } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../../test-support/http.js";
import { token } from "../../test-support/tokens.js";
import { startTestPlatform } from "./platform.js";

/**
 * The launcher's liveness probe: a cell replica that hangs (SIGSTOP: it neither answers nor exits) is killed
 * and restarted by the supervisor, as Kubernetes' liveness probe would, while the cell's other AZ serves.
 * The probe runs every 300 ms here (the default is the manifests' 10 s × 3).
 */
describe("a hung process on the local platform", () => {
  let platform: LocalPlatform;
  const killed: { name: string; reason: string }[] = [];
  const restarted: string[] = [];

  beforeAll(async () => {
    platform = await startTestPlatform({
      cells: 1,
      azs: ["az-1", "az-2"],
      liveness: { periodMs: 300, timeoutMs: 300, failureThreshold: 3 },
    });
    platform.onLivenessKill = (p, reason) => killed.push({ name: p.name, reason });
    platform.onSupervisorEvent = (event) => {
      if (event.type === "restarted") restarted.push(event.process.name);
    };
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("is killed after its failed probes and restarted; the cell's other AZ serves meanwhile", async () => {
    const alice = await token("alice");
    const created = await http(platform.routerUrl("az-1"), "POST", "/api/v1/wallets", {
      token: alice,
      body: { userId: "alice" },
    });
    expect(created.status).toBe(201);
    const hung = platform.processes.find((p) => p.name === "cell-1/az-1") as ManagedProcess;
    const pid = hung.child?.pid;
    expect(pid).toBeDefined();
    hung.child?.kill("SIGSTOP");

    for (let i = 0; !restarted.includes("cell-1/az-1"); i++) {
      // Served by az-2 while az-1 hangs (the router fails over on its timeout, then on its health probe).
      const res = await http(platform.routerUrl("az-1"), "GET", `/api/v1/wallets/${created.body.walletId}`, {
        token: alice,
      });
      expect([200, 503]).toContain(res.status);
      expect(i, JSON.stringify(killed)).toBeLessThan(300);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(killed).toEqual([
      { name: "cell-1/az-1", reason: "no answer to /health for 3 probes in a row (every 300 ms)" },
    ]);
    expect(hung.child?.pid).not.toBe(pid);
    expect(() => process.kill(pid as number, 0)).toThrow(); // the hung process is gone
    const ready = await http(`http://127.0.0.1:${hung.port}`, "GET", "/ready");
    expect(ready.status).toBe(200);
    const read = await http(platform.routerUrl("az-1"), "GET", `/api/v1/wallets/${created.body.walletId}`, {
      token: alice,
    });
    expect(read.status).toBe(200);
    // Nothing else was judged hung; the launcher's status says why it restarted.
    expect(restarted).toEqual(["cell-1/az-1"]);
    expect(hung.supervision.lastExit?.reason).toBe("hung: killed by the liveness probe");
  }, 90_000);
});
