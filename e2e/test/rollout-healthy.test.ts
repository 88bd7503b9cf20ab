import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { http } from "../../test-support/http.js";
import { freePort } from "../../test-support/moto-server.js";
import { token } from "../../test-support/tokens.js";
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

/**
 * A healthy new version across 2 cells x 3 AZs with the local driver, the
 * platform as processes: the rollout completes in the planned order (canary
 * cell first, one AZ at a time in the plan's AZ order), every process ends on
 * the new version, and `cells create` starts and registers a third cell.
 */
describe("rollout of a healthy version (local driver)", () => {
  let platform: LocalPlatform;
  let load: Awaited<ReturnType<typeof startBackgroundDeposits>>;

  beforeAll(async () => {
    platform = await startTestPlatform();
    load = await startBackgroundDeposits(platform, ["h1", "h2", "h3", "h4"]);
  }, 60_000);

  afterAll(async () => {
    await load?.stop();
    await platform?.stop();
  });

  it("plans, then completes in the planned order; every process runs the new version", async () => {
    expect((await cellctl(platform, ["versions", "add", "v2", "--entry", REPO_CELL_ENTRY])).code).toBe(0);
    const plan = writePlan(platform, "healthy", {
      version: "v2",
      waves: [["cell-2"], ["cell-1"]],
      azOrder: ["az-2", "az-3", "az-1"],
      bake: { minSeconds: 1, minRequests: 3 },
      // p99 of a freshly started process is noisy over a 2 s window, and a breaching alarm holds the bake until it
      // fires or clears: here only a hundredfold p99 counts.
      alarms: { errorRateForSeconds: 1, windowSeconds: 2, minWindowRequests: 5, p99RatioAboveBaseline: 100 },
    });
    const expected = ["cell-2/az-2", "cell-2/az-3", "cell-2/az-1", "cell-1/az-2", "cell-1/az-3", "cell-1/az-1"];

    const planned = await cellctl(platform, ["rollout", "plan", "--plan", plan]);
    expect(planned.code, planned.stderr).toBe(0);
    const order = [...planned.stdout.matchAll(/--- step \d+\/6 \(wave \d\): (\S+)/g)].map((m) => m[1]);
    expect(order).toEqual(expected);
    expect(planned.stdout).toContain("cell-2/az-2: restart on v2");
    expect(planned.stdout).toContain("p99 > baseline + 10000%");

    const metricsPort = await freePort();
    const run = spawnCellctl(platform, [
      "rollout",
      "start",
      "--plan",
      plan,
      "--yes",
      "--json",
      "--metrics-port",
      String(metricsPort),
    ]);
    // While it runs, the controller serves its phase events as Prometheus metrics.
    let scraped = "";
    // Until the first step is done or a deadline, not 200 scrapes (~20 s): a loaded machine restarts and bakes slower.
    const scrapeDeadline = Date.now() + 120_000;
    while (!/cellwallet_rollout_events_total\{type="step.done"\} [1-9]/.test(scraped) && Date.now() < scrapeDeadline) {
      scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
        .then((r) => r.text())
        .catch(() => "");
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(scraped).toMatch(/^cellwallet_rollout_status\{status="running"\} 1$/m);
    expect(scraped).toMatch(/^cellwallet_rollout_steps\{phase="done"\} [1-9]/m);
    expect(scraped).toMatch(/^cellwallet_rollout_alarm_reading\{reading="targetRequests",cell="cell-2",az="az-2"\}/m);
    const started = await run.done;
    expect(started.code, started.stderr).toBe(0);
    const final = JSON.parse(started.stdout);
    expect(final.status).toBe("completed");
    expect(stepsReaching(final, "step.deploying")).toEqual(expected);
    expect(stepsReaching(final, "step.baking")).toEqual(expected);
    expect(stepsReaching(final, "step.done")).toEqual(expected);
    expect(final.steps.map((s: { previousVersion: string }) => s.previousVersion)).toEqual(Array(6).fill("dev"));
    // Never two AZs of a cell at once: each step is done before the next one starts deploying.
    const phases = final.events
      .filter((e: { type: string }) => e.type === "step.deploying" || e.type === "step.done")
      .map((e: { type: string }) => e.type);
    expect(phases).toEqual(expected.flatMap(() => ["step.deploying", "step.done"]));
    // The bake saw real traffic on every target.
    for (const e of final.events.filter((x: { type: string }) => x.type === "step.done")) {
      expect(Number(/^(\d+) requests/.exec(e.detail)?.[1])).toBeGreaterThanOrEqual(3);
    }
    expect(Object.values(await reportedVersions(platform))).toEqual(Array(6).fill("200:v2"));
    expect(started.stderr).toMatch(/step\.baking step 1\/6 cell-2\/az-2/);

    const status = await rolloutStatus(platform);
    expect(status.rolloutId).toBe(final.rolloutId);
    const audit = await cellctl(platform, ["audit-log", "--json"]);
    const actions = JSON.parse(audit.stdout).records.map((r: { action: string }) => r.action);
    expect(actions.filter((a: string) => a === "rollout.step.deploy")).toHaveLength(6);
    expect(actions).toContain("rollout.start");
    expect(load.sent()).toBeGreaterThan(20);
    // Six restarts, each waited for and baked: minutes, not seconds, on a loaded machine.
  }, 240_000);

  it("cells create starts a cell's processes (one per AZ), registers it active, and it serves a wallet", async () => {
    const aws = await cellctl(platform, ["cells", "create", "cell-9", "--target", "aws"]);
    expect(aws.code).toBe(0);
    expect(aws.stdout).toContain("npx cdk deploy cellwallet-cell-9");
    expect(aws.stdout).toContain("Nothing was changed.");

    const created = await cellctl(platform, ["cells", "create", "cell-3", "--capacity", "500", "--json"]);
    expect(created.code, created.stderr).toBe(0);
    const cell = JSON.parse(created.stdout);
    expect(cell.state).toBe("active");
    expect(cell.endpoints.map((e: { az: string }) => e.az)).toEqual(["az-1", "az-2", "az-3"]);
    for (const e of cell.endpoints) {
      const ready = await http(e.url, "GET", "/ready");
      expect(ready.body).toEqual({ status: "ready", version: "dev" });
    }
    expect((await cellctl(platform, ["cells", "create", "cell-3"])).code).toBe(1);

    const placement = platform.openPlacementStore();
    await placement.setOverride("newcomer", "cell-3");
    await placement.close();
    const ops = await token("ops", "wallet:operator");
    // The routers pick the new cell up at their next registry refresh.
    let created201 = 0;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && created201 === 0; ) {
      const res = await http(platform.routerUrl("az-3"), "POST", "/api/v1/wallets", {
        token: ops,
        idempotencyKey: "newcomer-wallet",
        body: { userId: "newcomer" },
      });
      if (res.status === 201) created201 = 1;
      else await new Promise((r) => setTimeout(r, 200));
    }
    expect(created201).toBe(1);
    const list = await cellctl(platform, ["cells", "list", "--json"]);
    const cell3 = JSON.parse(list.stdout).cells.find((c: { cellId: string }) => c.cellId === "cell-3");
    expect(cell3.users).toBe(1);
  }, 60_000);
});
