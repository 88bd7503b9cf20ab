import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ReplicaCounters } from "../src/rollout/replica-metrics.js";
import type { RolloutDriver, RolloutTarget } from "../src/rollout/rollout-driver.js";
import { parsePlan, planSteps } from "../src/rollout/rollout-plan.js";
import { newRollout, requestAbort } from "../src/rollout/rollout-state.js";
import { updateRollout } from "../src/rollout/rollout-store.js";
import { type ReplicaProbe, type RunRolloutDeps, runRollout } from "../src/rollout/run-rollout.js";
import { SqliteRolloutStore } from "../src/rollout/sqlite-rollout-store.js";

/**
 * The controller use case against an in-memory platform (a driver that records
 * what it deploys, replicas whose /metrics depend on the version they run) and
 * the real SQLite rollout store. The process-level behaviour is in
 * e2e/test/rollout-*.test.ts; here are the paths those do not reach cheaply.
 */
const AZS = ["az-1", "az-2", "az-3"];
const cells = new Map([
  ["cell-1", AZS],
  ["cell-2", AZS],
]);

class FakePlatform implements RolloutDriver {
  readonly name = "local" as const;
  readonly versions = new Map<string, string>();
  readonly deploys: string[] = [];
  readonly counters = new Map<string, { requests: number; errors: number }>();
  /** When each replica's process started (its process_start_time_seconds). */
  readonly startedAt = new Map<string, number>();
  failDeployOf?: string;
  notReadyOn?: string;
  /** Replicas that get no traffic (their AZ evacuated): their counters stand still. */
  readonly quiet = new Set<string>();

  constructor() {
    for (const [cell, azs] of cells) {
      for (const az of azs) {
        this.versions.set(`${cell}/${az}`, "v1");
        this.startedAt.set(`${cell}/${az}`, Date.now() - 3_600_000);
      }
    }
  }

  /** The replica's process crashed and its supervisor started it again: a new process, counting from zero. */
  restart(key: string) {
    this.counters.delete(key);
    this.startedAt.set(key, Date.now());
  }

  async currentVersion(t: RolloutTarget) {
    return this.versions.get(`${t.cellId}/${t.az}`);
  }
  async describeChange(t: RolloutTarget, version: string) {
    return `${t.cellId}/${t.az} -> ${version}`;
  }
  async deploy(t: RolloutTarget, version: string) {
    const key = `${t.cellId}/${t.az}`;
    this.deploys.push(`${key}@${version}`);
    if (version === this.failDeployOf) throw new Error("image pull failed");
    this.versions.set(key, version);
    this.restart(key); // a new process: counts from zero
  }

  probe: ReplicaProbe = {
    ready: async (url) => {
      const version = this.versions.get(url);
      return { ready: version !== this.notReadyOn, ...(version ? { version } : {}) };
    },
    metrics: async (url): Promise<ReplicaCounters> => {
      const c = this.counters.get(url) ?? { requests: 0, errors: 0 };
      if (!this.quiet.has(url)) c.requests += 10;
      if (this.versions.get(url) === "bad") c.errors += 3; // 30% errors
      this.counters.set(url, c);
      return {
        ...c,
        // Whole seconds, as prom-client reports it.
        processStartMs: Math.round((this.startedAt.get(url) ?? 0) / 1000) * 1000,
        buckets: [
          [0.01, c.requests],
          [Number.POSITIVE_INFINITY, c.requests],
        ],
      };
    },
  };
}

function plan(version: string, extra: Record<string, unknown> = {}) {
  const parsed = parsePlan(
    {
      version,
      waves: [["cell-1"], ["cell-2"]],
      bake: { minSeconds: 0.1, minRequests: 10 },
      alarms: { errorRateForSeconds: 0.05, windowSeconds: 0.5, minWindowRequests: 5 },
      readyTimeoutSeconds: 1,
      scrapeIntervalSeconds: 0.05,
      ...extra,
    },
    cells,
  );
  if (!parsed.ok) throw new Error(parsed.errors.join("; "));
  return parsed.plan;
}

describe("runRollout (controller use case)", () => {
  let store: SqliteRolloutStore;
  let path: string;
  let platform: FakePlatform;
  let audit: string[];

  beforeEach(() => {
    path = join(mkdtempSync(join(tmpdir(), "cellwallet-run-rollout-")), "rollouts.sqlite");
    store = new SqliteRolloutStore(path);
    platform = new FakePlatform();
    audit = [];
  });
  afterEach(async () => store.close());

  async function start(version: string, extra: Record<string, unknown> = {}) {
    const p = plan(version, extra);
    const created = await store.create(
      newRollout({
        rolloutId: "r1",
        driver: "local",
        plan: p,
        steps: planSteps(p, cells),
        startedBy: "t",
        nowMs: Date.now(),
      }),
    );
    if (!created.ok) throw new Error("not created");
  }

  const deps = (owner = "c1"): RunRolloutDeps => ({
    store,
    driver: platform,
    probe: platform.probe,
    replicas: async (cellId) => AZS.map((az) => ({ az, url: `${cellId}/${az}` })),
    owner,
    // Far above a loaded machine's stalls: a live controller's lease must not expire between two heartbeats.
    leaseMs: 60_000,
    audit: async (action, target) => {
      audit.push(`${action} ${target}`);
    },
  });

  it("completes a healthy version step by step, auditing every deploy", async () => {
    await start("v2");
    const out = await runRollout(deps(), "r1");
    expect(out.kind === "finished" && out.rollout.status).toBe("completed");
    expect(platform.deploys).toEqual([...cells].flatMap(([c, azs]) => azs.map((az) => `${c}/${az}@v2`)));
    expect(audit).toHaveLength(6);
  });

  it("an error-rate alarm rolls the step back to its previous version and ends the rollout", async () => {
    await start("bad");
    const out = await runRollout(deps(), "r1");
    if (out.kind !== "finished") throw new Error(out.kind);
    expect(out.rollout.status).toBe("rolled-back");
    expect(out.rollout.reason).toMatch(/^alarm: error rate 30% vs baseline 0%/);
    expect(platform.deploys).toEqual(["cell-1/az-1@bad", "cell-1/az-1@v1"]);
    expect(audit).toEqual(["rollout.step.deploy cell-1/az-1", "rollout.step.rollback cell-1/az-1"]);
    expect(out.rollout.steps.filter((s) => s.phase === "pending")).toHaveLength(5);
  });

  it("never passes a step while an alarm is pending, however late the breach starts in the bake", async () => {
    // The breach starts at the scrape that also meets the bake's minimums (no minimum time, 10 requests served
    // at the second scrape): the step must wait for the alarm to fire (or clear), not move on.
    await start("bad", {
      bake: { minSeconds: 0, minRequests: 10 },
      alarms: { errorRateForSeconds: 0.3, windowSeconds: 5, minWindowRequests: 5 },
    });
    const out = await runRollout(deps(), "r1");
    if (out.kind !== "finished") throw new Error(out.kind);
    expect(out.rollout.reason).toMatch(/^alarm: error rate 30% vs baseline 0%/);
    expect(platform.deploys).toEqual(["cell-1/az-1@bad", "cell-1/az-1@v1"]);
  });

  it("a failing canary in the step's cell rolls the step back (--canary-metrics)", async () => {
    await start("v2", { bake: { minSeconds: 2, minRequests: 10 } });
    let failed = 5;
    const out = await runRollout(
      {
        ...deps(),
        // Another cell's canary fails too; only the baking step's cell counts.
        canaryFailures: async (cellId) => (cellId === "cell-1" ? failed++ : 1000 + failed++),
      },
      "r1",
    );
    if (out.kind !== "finished") throw new Error(out.kind);
    expect(out.rollout.status).toBe("rolled-back");
    expect(out.rollout.reason).toBe("alarm: canary: 2 journeys failed in cell-1 during the bake");
    expect(platform.deploys).toEqual(["cell-1/az-1@v2", "cell-1/az-1@v1"]);
  });

  it("a canary that keeps passing (or reports nothing) lets the rollout complete", async () => {
    await start("v2");
    const out = await runRollout({ ...deps(), canaryFailures: async (c) => (c === "cell-2" ? undefined : 7) }, "r1");
    expect(out.kind === "finished" && out.rollout.status).toBe("completed");
  });

  it("a step that cannot gather its minimum requests is rolled back at the bake deadline, not baked forever", async () => {
    // cell-1/az-1 evacuated after the plan was checked: it serves nothing while it bakes.
    platform.quiet.add("cell-1/az-1");
    await start("v2", { bake: { minSeconds: 0.1, minRequests: 10, maxSeconds: 0.5 } });
    const out = await runRollout(deps(), "r1");
    if (out.kind !== "finished") throw new Error(out.kind);
    expect(out.rollout.status).toBe("rolled-back");
    expect(out.rollout.reason).toMatch(
      /^bake deadline: not passed in \d+s \(0 of 10 requests served\); does the target take traffic/,
    );
    expect(platform.deploys).toEqual(["cell-1/az-1@v2", "cell-1/az-1@v1"]);
    expect(out.rollout.steps.filter((s) => s.phase === "pending")).toHaveLength(5);
  });

  it("a restart of the target during its bake (a crash its supervisor hid within a second) rolls the step back", async () => {
    await start("v2", { bake: { minSeconds: 30, minRequests: 10 } });
    const running = runRollout(deps(), "r1");
    let bakeStarted = 0;
    while (!bakeStarted) {
      const at = (await store.get("r1"))?.steps[0]?.bakeStartedAt;
      if (at) bakeStarted = Date.parse(at);
      else await new Promise((res) => setTimeout(res, 20));
    }
    // Past the slack that absorbs a start time's rounding and clock skew, the process dies and is back at once.
    await new Promise((res) => setTimeout(res, bakeStarted + 2_600 - Date.now()));
    platform.restart("cell-1/az-1");
    const out = await running;
    if (out.kind !== "finished") throw new Error(out.kind);
    expect(out.rollout.status).toBe("rolled-back");
    expect(out.rollout.reason).toMatch(/^alarm: the target restarted during the bake \(its process started \d+s after/);
    expect(platform.deploys).toEqual(["cell-1/az-1@v2", "cell-1/az-1@v1"]);
  });

  it("a failed deploy and a version that never gets ready are rolled back too", async () => {
    platform.failDeployOf = "v2";
    await start("v2");
    const failed = await runRollout(deps(), "r1");
    expect(failed.kind === "finished" && failed.rollout.reason).toBe("deploy failed: image pull failed");
    expect(platform.deploys).toEqual(["cell-1/az-1@v2", "cell-1/az-1@v1"]);

    platform = new FakePlatform();
    platform.notReadyOn = "v3";
    const p = plan("v3");
    await store.create(
      newRollout({
        rolloutId: "r2",
        driver: "local",
        plan: p,
        steps: planSteps(p, cells),
        startedBy: "t",
        nowMs: Date.now(),
      }),
    );
    const stuck = await runRollout(deps(), "r2");
    expect(stuck.kind === "finished" && stuck.rollout.status).toBe("rolled-back");
    expect(stuck.kind === "finished" && stuck.rollout.reason).toMatch(/^not ready on v3 in time/);
    expect(platform.versions.get("cell-1/az-1")).toBe("v1");
  });

  it("an operator abort while a step bakes rolls that step back and ends the rollout aborted", async () => {
    await start("v2", { bake: { minSeconds: 30, minRequests: 10 } });
    const running = runRollout(deps(), "r1");
    const operator = new SqliteRolloutStore(path);
    for (;;) {
      const r = await operator.get("r1");
      if (r?.steps[0]?.phase === "baking") break;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect((await updateRollout(operator, "r1", (r) => requestAbort(r, "alice", Date.now()))).ok).toBe(true);
    const out = await running;
    await operator.close();
    expect(out.kind === "finished" && out.rollout.status).toBe("aborted");
    expect(out.kind === "finished" && out.rollout.reason).toBe("aborted by alice");
    expect(platform.deploys).toEqual(["cell-1/az-1@v2", "cell-1/az-1@v1"]);
  });

  it("a controller that died mid-bake is replaced once its lease expired, and an abort it missed is obeyed", async () => {
    await start("v2");
    await platform.deploy({ cellId: "cell-1", az: "az-1" }, "v2");
    platform.deploys.length = 0;
    const stale = new Date(Date.now() - 600_000).toISOString();
    await updateRollout(store, "r1", (r) => ({
      ok: true,
      rollout: {
        ...r,
        controller: { owner: "dead", heartbeatAt: stale },
        steps: r.steps.map((s) =>
          s.index === 0 ? { ...s, phase: "baking", previousVersion: "v1", bakeStartedAt: stale } : s,
        ),
      },
    }));
    await updateRollout(store, "r1", (r) => requestAbort(r, "bob", Date.now()));
    const out = await runRollout(deps("c2"), "r1");
    expect(out.kind === "finished" && out.rollout.status).toBe("aborted");
    expect(platform.deploys).toEqual(["cell-1/az-1@v1"]);
    expect(out.kind === "finished" && out.rollout.steps.map((s) => s.phase)).toEqual([
      "rolled-back",
      "pending",
      "pending",
      "pending",
      "pending",
      "pending",
    ]);
  });

  it("a second controller is refused while the first one's lease is fresh", async () => {
    await start("v2", { bake: { minSeconds: 30, minRequests: 10 } });
    const first = runRollout(deps("c1"), "r1");
    // Until the first holds the lease, not a fixed 200 ms: a stalled first controller would not have claimed it yet.
    while ((await store.get("r1"))?.controller?.owner !== "c1") await new Promise((res) => setTimeout(res, 20));
    const second = await runRollout(deps("c2"), "r1");
    expect(second.kind).toBe("refused");
    expect(second.kind === "refused" && second.refusal).toMatch(/another controller \(c1\)/);
    await updateRollout(store, "r1", (r) => requestAbort(r, "t", Date.now()));
    expect((await first).kind).toBe("finished");
  });
});
