import { describe, expect, it } from "vitest";
import { evaluateAlarms, RESTART_SLACK_MS, SampleWindow } from "../src/rollout/alarm-evaluation.js";
import { parseReplicaMetrics, quantileSeconds } from "../src/rollout/replica-metrics.js";
import {
  DEFAULT_ALARMS,
  DEFAULT_BAKE,
  growingWaves,
  parsePlan,
  planSteps,
  type RolloutPlan,
} from "../src/rollout/rollout-plan.js";
import {
  applyPause,
  beginRollback,
  beginStep,
  claimController,
  controllerLiveness,
  currentStep,
  newRollout,
  type Rollout,
  requestAbort,
  requestPause,
  resumeRollout,
  rollbackDone,
  stepBaked,
  stepDeployed,
  stepReady,
  type Transition,
} from "../src/rollout/rollout-state.js";

const AZS = ["az-1", "az-2", "az-3"];
const cells = new Map(["cell-1", "cell-2", "cell-3", "cell-4"].map((c) => [c, AZS]));

function plan(input: Record<string, unknown>): RolloutPlan {
  const result = parsePlan(input, cells);
  if (!result.ok) throw new Error(result.errors.join("; "));
  return result.plan;
}

const ok = (t: Transition): Rollout => {
  if (!t.ok) throw new Error(t.refusal);
  return t.rollout;
};

describe("rollout plan", () => {
  it("defaults are explicit: canary then doubling waves, sorted AZs, 0.1 points/3 min, +20% p99/5 min", () => {
    const p = plan({ version: "v2" });
    expect(p.waves).toEqual([["cell-1"], ["cell-2"], ["cell-3", "cell-4"]]);
    expect(p.azOrder).toEqual(AZS);
    expect(p.alarms).toEqual(DEFAULT_ALARMS);
    expect(p.alarms.errorRatePointsAboveBaseline).toBe(0.1);
    expect(p.alarms.errorRateForMs).toBe(180_000);
    expect(p.alarms.p99RatioAboveBaseline).toBe(0.2);
    expect(p.alarms.p99ForMs).toBe(300_000);
    expect(p.bake).toEqual(DEFAULT_BAKE);
    expect(p.manualGates).toBe(false);
    expect(growingWaves(["a", "b", "c", "d", "e", "f", "g", "h"], "c")).toEqual([
      ["c"],
      ["a"],
      ["b", "d"],
      ["e", "f", "g", "h"],
    ]);
  });

  it("expands to steps wave by wave, cell by cell, one AZ at a time in the plan's AZ order", () => {
    const p = plan({ version: "v2", waves: [["cell-2"], ["cell-1", "cell-3"]], azOrder: ["az-3", "az-1", "az-2"] });
    const steps = planSteps(p, cells).map((s) => `${s.wave}:${s.cellId}/${s.az}`);
    expect(steps).toEqual([
      "0:cell-2/az-3",
      "0:cell-2/az-1",
      "0:cell-2/az-2",
      "1:cell-1/az-3",
      "1:cell-1/az-1",
      "1:cell-1/az-2",
      "1:cell-3/az-3",
      "1:cell-3/az-1",
      "1:cell-3/az-2",
    ]);
  });

  it("refuses a bad plan as a whole with every reason", () => {
    const result = parsePlan(
      {
        version: "v 2",
        waves: [["cell-1", "cell-2"], ["cell-9"], ["cell-1"]],
        azOrder: ["az-1"],
        bake: { minSeconds: -1 },
        colour: "blue",
      } as never,
      cells,
    );
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors).toEqual(
      expect.arrayContaining([
        "unknown plan member colour",
        expect.stringContaining("version must be"),
        "cell cell-1 appears in more than one wave",
        "unknown cell cell-9",
        "the first wave is the canary: exactly one cell",
        "wave 2 is smaller than wave 1",
        "azOrder misses az-2, az-3 of cell-1",
        "bake.minSeconds must be a number ≥ 0",
      ]),
    );
  });

  it("reads durations in seconds from the plan file", () => {
    const p = plan({
      version: "v2",
      bake: { minSeconds: 1.5, minRequests: 10 },
      alarms: { errorRateForSeconds: 2, windowSeconds: 3, minWindowRequests: 5 },
      manualGates: true,
    });
    // The bake deadline defaults to three times the minimum bake, and never under 10 minutes.
    expect(p.bake).toEqual({ minMs: 1500, minRequests: 10, maxMs: 600_000 });
    expect(plan({ version: "v2", bake: { minSeconds: 400 } }).bake.maxMs).toBe(1_200_000);
    expect(plan({ version: "v2", bake: { minSeconds: 1, maxSeconds: 30 } }).bake.maxMs).toBe(30_000);
    expect(p.alarms.errorRateForMs).toBe(2000);
    expect(p.alarms.windowMs).toBe(3000);
    expect(p.alarms.minWindowRequests).toBe(5);
    expect(p.alarms.p99ForMs).toBe(300_000);
  });

  it("refuses a bake deadline shorter than the minimum bake", () => {
    const result = parsePlan({ version: "v2", bake: { minSeconds: 60, maxSeconds: 30 } }, cells);
    expect(result.ok ? [] : result.errors).toEqual(["bake.maxSeconds must be at least bake.minSeconds"]);
  });

  it("refuses a step into an AZ that takes no traffic while the bake needs requests (an evacuated AZ)", () => {
    const quiet = new Set(["cell-2/az-1"]);
    const refused = parsePlan({ version: "v2", waves: [["cell-2"], ["cell-1"]] }, cells, quiet);
    expect(refused.ok ? [] : refused.errors).toEqual([
      "cell-2/az-1 takes no traffic (weight 0: evacuated), so its bake could never serve bake.minRequests: " +
        "restore it (cellctl az restore az-1 --cell cell-2) or leave cell-2 out of the plan",
    ]);
    // Cells without a quiet AZ are planned; a bake on time alone (no minimum requests) is accepted.
    expect(parsePlan({ version: "v2", waves: [["cell-1"], ["cell-3"]] }, cells, quiet).ok).toBe(true);
    expect(parsePlan({ version: "v2", bake: { minRequests: 0 } }, cells, quiet).ok).toBe(true);
  });
});

describe("rollout state machine", () => {
  const p = plan({ version: "v2", waves: [["cell-1"], ["cell-2"]], manualGates: true });
  const fresh = () =>
    newRollout({ rolloutId: "r1", driver: "local", plan: p, steps: planSteps(p, cells), startedBy: "ops", nowMs: 0 });

  function bakeStep(r: Rollout, now: number): Rollout {
    const step = currentStep(r);
    if (!step) throw new Error("no step");
    r = ok(beginStep(r, step, "v1", now));
    r = ok(stepDeployed(r, currentStep(r) as never, now));
    r = ok(stepReady(r, currentStep(r) as never, now));
    return ok(stepBaked(r, currentStep(r) as never, now));
  }

  it("runs the canary's AZs, stops at the gate before the next wave, and completes after resume", () => {
    let r = fresh();
    for (let i = 0; i < 3; i++) r = bakeStep(r, i);
    expect(r.status).toBe("waiting-gate");
    expect(beginStep(r, currentStep(r) as never, "v1", 4).ok).toBe(false);
    expect(requestPause(r, "ops", 4)).toEqual({
      ok: false,
      refusal: "the rollout is already stopped at a manual gate",
    });
    r = ok(resumeRollout(r, "ops", 5));
    expect(r.events.at(-1)?.type).toBe("gate.passed");
    for (let i = 0; i < 3; i++) r = bakeStep(r, 6 + i);
    expect(r.status).toBe("completed");
    expect(r.steps.every((s) => s.phase === "done" && s.previousVersion === "v1")).toBe(true);
  });

  it("an alarm rolls the step back and ends the rollout rolled-back; later steps stay pending", () => {
    let r = fresh();
    r = bakeStep(r, 1);
    const step = currentStep(r) as never;
    r = ok(beginStep(r, step, "v1", 2));
    r = ok(stepDeployed(r, currentStep(r) as never, 3));
    r = ok(stepReady(r, currentStep(r) as never, 4));
    r = ok(beginRollback(r, currentStep(r) as never, "error rate", 5));
    expect(currentStep(r)?.phase).toBe("rolling-back");
    r = ok(rollbackDone(r, currentStep(r) as never, 6));
    expect(r.status).toBe("rolled-back");
    expect(r.steps.map((s) => s.phase)).toEqual(["done", "rolled-back", "pending", "pending", "pending", "pending"]);
    expect(requestPause(r, "ops", 7).ok).toBe(false);
    expect(resumeRollout(r, "ops", 7).ok).toBe(false);
  });

  it("an operator abort ends as aborted; a pause takes effect between steps", () => {
    let r = ok(requestPause(fresh(), "ops", 1));
    expect(requestPause(r, "ops", 1).ok).toBe(false);
    r = applyPause(r, 2);
    expect(r.status).toBe("paused");
    r = ok(resumeRollout(r, "ops", 3));
    expect(r.status).toBe("running");
    r = ok(beginStep(r, currentStep(r) as never, "v1", 4));
    r = ok(requestAbort(r, "ops", 5));
    r = ok(beginRollback(r, currentStep(r) as never, r.reason as string, 6));
    r = ok(rollbackDone(r, currentStep(r) as never, 7));
    expect(r.status).toBe("aborted");
    expect(r.reason).toBe("aborted by ops");
  });

  it("resume of a running rollout (its controller died) keeps a pending pause: it still stops after the step", () => {
    let r = ok(beginStep(fresh(), currentStep(fresh()) as never, "v1", 1));
    r = ok(requestPause(r, "alice", 2));
    const resumed = ok(resumeRollout(r, "bob", 3));
    expect([resumed.status, resumed.intent]).toEqual(["running", "pause"]);
    // Its pending abort is kept too, and obeyed by the controller resume starts.
    expect(ok(resumeRollout(ok(requestAbort(r, "carol", 4)), "bob", 5)).intent).toBe("abort");
  });

  it("a controller that missed two heartbeats is stale to operators, before its lease expires", () => {
    const held = ok(claimController(fresh(), "host:1", 1000, 15_000));
    expect(controllerLiveness(held, 4000, 15_000)).toEqual({ kind: "live", owner: "host:1", ageSeconds: 3 });
    expect(controllerLiveness(held, 12_000, 15_000)).toEqual({ kind: "stale", owner: "host:1", ageSeconds: 11 });
    expect(controllerLiveness(fresh(), 12_000, 15_000)).toEqual({ kind: "none" });
  });

  it("one controller at a time: a fresh heartbeat refuses a second, an expired one is taken over", () => {
    const a = ok(claimController(fresh(), "A", 1000, 5000));
    expect(claimController(a, "B", 3000, 5000).ok).toBe(false);
    expect(ok(claimController(a, "B", 7000, 5000)).controller?.owner).toBe("B");
    expect(ok(claimController(a, "A", 3000, 5000)).controller?.heartbeatAt).toBe(new Date(3000).toISOString());
  });
});

function exposition(requests: Array<[string, string, number]>, buckets: Array<[string, string, number]>): string {
  return [
    "# HELP cellwallet_http_requests_total x",
    ...requests.map(
      ([route, status, n]) =>
        `cellwallet_http_requests_total{method="POST",route="${route}",status="${status}",cell="c",az="a"} ${n}`,
    ),
    ...buckets.map(
      ([route, le, n]) =>
        `cellwallet_http_request_duration_seconds_bucket{le="${le}",method="POST",route="${route}",status="201",cell="c",az="a"} ${n}`,
    ),
  ].join("\n");
}

describe("alarm evaluation from /metrics", () => {
  it("counts only API routes; 5xx are errors; p99 interpolates in the buckets", () => {
    const c = parseReplicaMetrics(
      exposition(
        [
          ["/api/v1/wallets", "201", 90],
          ["/api/v1/wallets", "500", 10],
          ["/metrics", "200", 1000],
        ],
        [
          ["/api/v1/wallets", "0.01", 50],
          ["/api/v1/wallets", "0.1", 100],
          ["/api/v1/wallets", "+Inf", 100],
          ["/ready", "+Inf", 999],
        ],
      ),
    );
    expect(c.requests).toBe(100);
    expect(c.errors).toBe(10);
    expect(quantileSeconds(c, 0.5)).toBeCloseTo(0.01);
    expect(quantileSeconds(c, 0.99)).toBeCloseTo(0.01 + 0.09 * (49 / 50));
  });

  const t = {
    ...DEFAULT_ALARMS,
    errorRateForMs: 3000,
    p99ForMs: 5000,
    readinessLostForMs: 2000,
    minWindowRequests: 20,
  };
  const counters = (requests: number, errors: number, slow = 0) => ({
    requests,
    errors,
    buckets: [
      [0.01, requests - slow],
      [1, requests],
      [Number.POSITIVE_INFINITY, requests],
    ] as Array<[number, number]>,
  });

  it("error rate: fires only after more than 0.1 points above baseline held for the whole duration", () => {
    let state = {};
    const step = (now: number, target = counters(1000, 3), baseline = counters(1000, 1)) => {
      const v = evaluateAlarms(state, { nowMs: now, targetReady: true, target, baseline }, t);
      state = v.state;
      return v.fired;
    };
    expect(step(0)).toBeUndefined(); // 0.3% vs 0.1%: breach starts
    expect(step(2000)).toBeUndefined();
    expect(step(3000)).toMatch(/^error rate 0.3% vs baseline 0.1%/);
    // Exactly 0.1 points above is not a breach: the clock resets.
    expect(step(4000, counters(1000, 2))).toBeUndefined();
    expect(step(8000, counters(1000, 2))).toBeUndefined();
    // A thin window (< minWindowRequests) neither fires nor clears.
    expect(step(9000)).toBeUndefined();
    expect(step(11_000, counters(10, 10))).toBeUndefined();
    expect(step(12_000)).toMatch(/^error rate/);
  });

  it("p99: fires when more than 20% above the baseline's for its duration; no baseline, no p99 alarm", () => {
    let state = {};
    const slow = counters(100, 0, 5); // 5% of requests in the slow bucket
    expect(
      evaluateAlarms(state, { nowMs: 0, targetReady: true, target: slow, baseline: counters(100, 0) }, t).fired,
    ).toBeUndefined();
    state = evaluateAlarms(state, { nowMs: 0, targetReady: true, target: slow, baseline: counters(100, 0) }, t).state;
    expect(
      evaluateAlarms(state, { nowMs: 5000, targetReady: true, target: slow, baseline: counters(100, 0) }, t).fired,
    ).toMatch(/^p99/);
    expect(evaluateAlarms({}, { nowMs: 0, targetReady: true, target: slow }, t).state.p99BreachSinceMs).toBeUndefined();
    // Without a baseline the error rate is compared with zero.
    expect(
      evaluateAlarms({}, { nowMs: 0, targetReady: true, target: counters(100, 1) }, t).state.errorBreachSinceMs,
    ).toBe(0);
  });

  it("readiness lost for its duration fires", () => {
    const a = evaluateAlarms({}, { nowMs: 0, targetReady: false, target: counters(0, 0) }, t);
    expect(a.fired).toBeUndefined();
    expect(evaluateAlarms(a.state, { nowMs: 2000, targetReady: false, target: counters(0, 0) }, t).fired).toBe(
      "readiness lost for 2s",
    );
    expect(
      evaluateAlarms(a.state, { nowMs: 2000, targetReady: true, target: counters(0, 0) }, t).fired,
    ).toBeUndefined();
  });

  it("a target whose process started after the bake began restarted: fires at once, beyond the slack", () => {
    const bake = 100_000;
    const at = (startMs?: number) =>
      evaluateAlarms(
        {},
        {
          nowMs: bake + 30_000,
          targetReady: true,
          target: counters(100, 0),
          bakeStartedAtMs: bake,
          ...(startMs !== undefined ? { targetProcessStartMs: startMs } : {}),
        },
        t,
      ).fired;
    expect(at(bake + 12_000)).toBe(
      "the target restarted during the bake (its process started 12s after the bake began)",
    );
    // Started before the bake (every pod of a Kubernetes Service), within the rounding and skew slack, or unknown.
    expect(at(bake - 60_000)).toBeUndefined();
    expect(at(bake + RESTART_SLACK_MS)).toBeUndefined();
    expect(at()).toBeUndefined();
    // The start time comes from prom-client's default metrics, which every cell build exports.
    expect(parseReplicaMetrics('process_start_time_seconds{cell="c",az="a"} 1764990000\n').processStartMs).toBe(
      1_764_990_000_000,
    );
  });

  it("a sample window gives the increase over the last window, and counts a restarted replica from zero", () => {
    const w = new SampleWindow();
    w.add(0, counters(100, 0), 1000);
    expect(w.windowDelta()?.requests).toBe(0);
    w.add(500, counters(150, 5), 1000);
    w.add(1000, counters(200, 5), 1000);
    w.add(1500, counters(260, 6), 1000);
    expect(w.windowDelta()).toMatchObject({ requests: 110, errors: 1 });
    w.add(2000, counters(30, 3), 1000); // restarted
    expect(w.windowDelta()).toMatchObject({ requests: 30, errors: 3 });
  });
});
