import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCellctl } from "../../test-support/cellctl.js";
import { freePort } from "../../test-support/moto-server.js";
import { startTestPlatform } from "./platform.js";
import {
  cellctl,
  cellctlEnv,
  FAULTY_CELL_ENTRY,
  reportedVersions,
  spawnCellctl,
  stepsReaching,
  writePlan,
} from "./rollout-support.js";

/**
 * The synthetic canary as the only rollout alarm that can fire: the error-rate and p99 alarms are set out of reach,
 * no other traffic runs, and a faulty build (500 to a share of API writes) goes to the canary cell's first AZ. The
 * canary (`cellctl canary run`, through the router of that AZ, which prefers its own AZ's replica) fails its
 * journeys; the controller, reading the canary's /metrics (`--canary-metrics`), rolls the step back and stops.
 * The canary money stays in the canary wallets: reconciliation and verification stay clean.
 */
describe("rollout rolled back by the canary alone (local driver)", () => {
  let platform: LocalPlatform;

  beforeAll(async () => {
    platform = await startTestPlatform();
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
  });

  it("rolls the step back on the canary's failed journeys, and the books stay exact", async () => {
    const canaryPort = await freePort();
    const canary = spawnCellctl(platform, [
      "canary",
      "run",
      "--cell",
      "cell-1",
      "--interval",
      "300ms",
      "--metrics-port",
      `${canaryPort}`,
      "--router",
      platform.routerUrl("az-1"),
      "--az",
      "az-1",
    ]);
    try {
      const canaryMetrics = `http://127.0.0.1:${canaryPort}/metrics`;
      const journeys = async (outcome: string) => {
        const text = await fetch(canaryMetrics)
          .then((r) => r.text())
          .catch(() => "");
        const line = text
          .split("\n")
          .find((l) => l.startsWith("cellwallet_canary_journeys_total{") && l.includes(`outcome="${outcome}"`));
        return line ? Number(line.split(" ").at(-1)) : 0;
      };
      // The canary's wallets exist and its journeys pass on the current build before the rollout starts.
      for (let i = 0; (await journeys("ok")) < 2; i++) {
        expect(i, canary.output().stderr).toBeLessThan(600);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await journeys("failed")).toBe(0);

      expect((await cellctl(platform, ["versions", "add", "faulty", "--entry", FAULTY_CELL_ENTRY])).code).toBe(0);
      const plan = writePlan(platform, "canary-only", {
        version: "faulty",
        waves: [["cell-1"], ["cell-2"]],
        azOrder: ["az-1", "az-2", "az-3"],
        // Long enough that only an alarm can end the bake early.
        bake: { minSeconds: 60, minRequests: 1 },
        // Neither the error rate (at most 100 points above any baseline) nor p99 can fire: only the canary can.
        alarms: {
          errorRatePointsAboveBaseline: 100,
          errorRateForSeconds: 1,
          windowSeconds: 2,
          minWindowRequests: 1,
          p99RatioAboveBaseline: 100,
        },
      });
      const run = await runCellctl(
        ["rollout", "start", "--plan", plan, "--yes", "--json", "--canary-metrics", canaryMetrics],
        cellctlEnv(platform),
      );

      expect(run.code, run.stderr).toBe(1);
      const final = JSON.parse(run.stdout);
      expect(final.status).toBe("rolled-back");
      expect(final.reason).toMatch(/^alarm: canary: \d+ journeys failed in cell-1 during the bake/);
      expect(stepsReaching(final, "step.deploying")).toEqual(["cell-1/az-1"]);
      expect(stepsReaching(final, "step.rolled-back")).toEqual(["cell-1/az-1"]);
      expect(stepsReaching(final, "step.done")).toEqual([]);
      // The canary cut the 60 s bake short: told by the persisted events, not by the wall clock.
      const at = (type: string) =>
        final.events.filter((e: { type: string }) => e.type === type).map((e: { at: string }) => Date.parse(e.at));
      const [bakingAt] = at("step.baking");
      const [rollingBackAt] = at("step.rolling-back");
      expect(rollingBackAt - bakingAt).toBeLessThan(60_000);
      expect(Object.values(await reportedVersions(platform))).toEqual(Array(6).fill("200:dev"));

      // Back on the old build, the canary passes again.
      const passedAfter = await journeys("ok");
      for (let i = 0; (await journeys("ok")) < passedAfter + 2; i++) {
        expect(i, canary.output().stderr).toBeLessThan(600);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      canary.child.kill("SIGTERM");
    }
    const stopped = await canary.done;
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stderr).not.toMatch(/\n\s+at /);

    // Canary money never left the canary wallets, and the faulty build applied nothing it refused.
    const reconcile = await cellctl(platform, ["reconcile", "--all"]);
    expect(reconcile.code, reconcile.stdout + reconcile.stderr).toBe(0);
    const verify = await cellctl(platform, ["verify", "--all"]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  }, 120_000);
});
