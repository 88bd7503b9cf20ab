import { join } from "node:path";
import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteRolloutStore } from "../../control-plane/src/rollout/sqlite-rollout-store.js";
import { startTestPlatform } from "./platform.js";
import {
  cellctl,
  REPO_CELL_ENTRY,
  reportedVersions,
  rolloutStatus,
  spawnCellctl,
  startBackgroundDeposits,
  stepsReaching,
  writePlan,
} from "./rollout-support.js";

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/**
 * The rollout survives its controller: `rollout start` is SIGKILLed mid-rollout,
 * another rollout is refused while this one is active, and `rollout resume`
 * (from another process) continues where it stopped. Manual gates, pause and
 * abort arrive from other cellctl processes and the controller obeys them.
 */
describe("rollout crash-resume, gates, pause and abort (local driver)", () => {
  let platform: LocalPlatform;
  let load: Awaited<ReturnType<typeof startBackgroundDeposits>>;
  let store: SqliteRolloutStore;
  /** The active rollout as persisted, read directly (cheaper than a cellctl process per poll). */
  const active = async () => store.active();
  const alarms = { errorRateForSeconds: 1, windowSeconds: 2, minWindowRequests: 5, p99RatioAboveBaseline: 100 };

  beforeAll(async () => {
    platform = await startTestPlatform();
    load = await startBackgroundDeposits(platform, ["r1", "r2", "r3", "r4"]);
    expect((await cellctl(platform, ["versions", "add", "v2", "--entry", REPO_CELL_ENTRY])).code).toBe(0);
    store = new SqliteRolloutStore(join(platform.options.dataDir, "control-plane", "rollouts.sqlite"));
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await load?.stop();
    await platform?.stop();
  });

  it("a killed `rollout start` is continued by `rollout resume`: every step done once, in order", async () => {
    const plan = writePlan(platform, "crash", {
      version: "v2",
      waves: [["cell-1"]],
      // The kill must land while the second step bakes: a bake of seconds, so that this process, polling the
      // store, cannot miss it by being stalled on a loaded machine (1.5 s once left too narrow a window).
      bake: { minSeconds: 4, minRequests: 3 },
      alarms,
    });
    const start = spawnCellctl(platform, ["rollout", "start", "--plan", plan, "--yes"]);
    // Kill the controller while the second step (cell-1/az-2) bakes.
    await until("the second step to bake", async () => {
      const r = await active();
      return r?.steps[1]?.phase === "baking";
    }).catch(async (error) => {
      throw new Error(`${error.message}: ${JSON.stringify(start.output())} ${JSON.stringify(await active())}`);
    });
    start.child.kill("SIGKILL");
    const killed = await start.done;
    expect(killed.signal).toBe("SIGKILL");
    const mid = await rolloutStatus(platform);
    expect(mid.status).toBe("running");
    expect(mid.steps.map((s: { phase: string }) => s.phase)).toEqual(["done", "baking", "pending"]);

    // Another rollout is refused while this one is active (its step was baking).
    const other = await cellctl(platform, ["rollout", "start", "--version", "dev", "--yes"]);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`rollout ${mid.rolloutId} is still active`);

    const resumed = await cellctl(platform, ["rollout", "resume", "--json"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const final = JSON.parse(resumed.stdout);
    expect(final.rolloutId).toBe(mid.rolloutId);
    expect(final.status).toBe("completed");
    const order = ["cell-1/az-1", "cell-1/az-2", "cell-1/az-3"];
    expect(stepsReaching(final, "step.done")).toEqual(order);
    // The interrupted step was baked again from the start, and no step was deployed twice.
    const bakes = final.events.filter((e: { type: string; step: number }) => e.type === "step.baking" && e.step === 1);
    expect(bakes.map((e: { detail?: string }) => e.detail ?? "")).toEqual(["", "bake restarted"]);
    expect(stepsReaching(final, "step.deploying")).toEqual(order);
    const versions = await reportedVersions(platform);
    expect([versions["cell-1/az-1"], versions["cell-1/az-2"], versions["cell-1/az-3"]]).toEqual(
      Array(3).fill("200:v2"),
    );
    expect(versions["cell-2/az-1"]).toBe("200:dev");
  }, 120_000);

  it("manual gate, pause and abort from other processes; rolling back needs no new build", async () => {
    // The repo's build (dev) everywhere: canary cell-2 (already on dev: its restarts are no-ops), a gate, then
    // cell-1, which goes back from v2 to dev by a rollout like any other (rolling back needs no new build).
    const plan = writePlan(platform, "gated", {
      version: "dev",
      waves: [["cell-2"], ["cell-1"]],
      manualGates: true,
      // The pause (a cellctl process started once cell-1's first step is under way) must arrive before cell-1's
      // last step starts: bakes of seconds leave a loaded machine's process start that much room.
      bake: { minSeconds: 2.5, minRequests: 3 },
      alarms,
    });
    const first = await cellctl(platform, ["rollout", "start", "--plan", plan, "--yes", "--json"]);
    expect(first.code, first.stderr).toBe(0);
    const gated = JSON.parse(first.stdout);
    expect(gated.status).toBe("waiting-gate");
    expect(stepsReaching(gated, "step.done")).toEqual(["cell-2/az-1", "cell-2/az-2", "cell-2/az-3"]);
    expect(gated.steps.map((s: { previousVersion?: string }) => s.previousVersion ?? "-")).toEqual([
      "dev",
      "dev",
      "dev",
      "-",
      "-",
      "-",
    ]);
    // At the gate, the next wave has not been touched.
    expect((await reportedVersions(platform))["cell-1/az-1"]).toBe("200:v2");

    // Pass the gate with resume; pause it from another process while cell-1 rolls: it stops after the step in flight.
    const resume = spawnCellctl(platform, ["rollout", "resume", "--json"]);
    await until("cell-1's first step", async () => (await active())?.steps[3]?.phase !== "pending");
    const pause = await cellctl(platform, ["rollout", "pause"]);
    expect(pause.code, pause.stderr).toBe(0);
    const paused = await resume.done;
    expect(paused.code, paused.stderr).toBe(0);
    const pausedState = JSON.parse(paused.stdout);
    expect(pausedState.status).toBe("paused");
    expect(pausedState.steps.filter((s: { phase: string }) => s.phase === "pending").length).toBeGreaterThan(0);
    expect(pausedState.events.map((e: { type: string }) => e.type)).toEqual(
      expect.arrayContaining(["gate.passed", "intent.pause", "rollout.paused"]),
    );
    expect((await cellctl(platform, ["rollout", "pause"])).code).toBe(1);
    const versions = await reportedVersions(platform);
    for (const s of pausedState.steps.filter((x: { phase: string }) => x.phase === "done")) {
      expect(versions[`${s.cellId}/${s.az}`]).toBe("200:dev");
    }
    expect(versions["cell-1/az-3"]).toBe("200:v2"); // the last step never ran

    // Abort the paused rollout: nothing is in flight, it ends at once; the remaining steps never run.
    expect((await cellctl(platform, ["rollout", "abort"])).code).toBe(2); // needs --yes without a terminal
    const abort = await cellctl(platform, ["rollout", "abort", "--yes", "--json"]);
    expect(abort.code, abort.stderr).toBe(0);
    const aborted = JSON.parse(abort.stdout);
    expect(aborted.status).toBe("aborted");
    const pendingAfter = aborted.steps.filter((s: { phase: string }) => s.phase === "pending").length;
    expect(pendingAfter).toBe(pausedState.steps.filter((s: { phase: string }) => s.phase === "pending").length);
    expect((await cellctl(platform, ["rollout", "resume", aborted.rolloutId])).code).toBe(1);

    const all = await cellctl(platform, ["rollout", "status", "--all"]);
    expect(all.stdout).toMatch(/aborted/);
    expect(all.stdout).toMatch(/completed/);
    const audit = JSON.parse((await cellctl(platform, ["audit-log", "--json"])).stdout).records;
    const actions = audit.map((r: { action: string }) => r.action);
    expect(actions).toEqual(expect.arrayContaining(["rollout.resume", "rollout.pause", "rollout.abort"]));
  }, 150_000);
});
