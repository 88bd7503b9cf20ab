import { describe, expect, it } from "vitest";
import { Books } from "../src/bench/book.js";
import type { LoadClient } from "../src/cellload/client.js";
import { type Load, offerLoad } from "../src/cellload/engine.js";
import {
  formatRate,
  parseDuration,
  parseRamp,
  parseRate,
  parseTargetUrl,
  UsageError,
} from "../src/cellload/options.js";
import { Recorder } from "../src/cellload/recorder.js";
import type { Scenario, ScenarioContext } from "../src/cellload/scenario.js";
import { ArrivalSchedule } from "../src/cellload/schedule.js";
import { evaluateThresholds, parseThreshold } from "../src/cellload/thresholds.js";

/** cellload's pure parts: flag values, thresholds, the arrival schedule's arithmetic and the recorder. */
describe("cellload flag values", () => {
  it("parses durations, rates, ramps and URLs", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("20")).toBe(20_000);
    expect(parseRate("100")).toBe(100);
    expect(parseRate("100/s")).toBe(100);
    expect(parseRate("600/m")).toBe(10);
    expect(parseRamp("10s:50,20s:200,5s:0")).toEqual([
      { durationMs: 10_000, target: 50 },
      { durationMs: 20_000, target: 200 },
      { durationMs: 5000, target: 0 },
    ]);
    expect(parseTargetUrl("http://127.0.0.1:8080/")).toBe("http://127.0.0.1:8080");
    // The API URL `npm start` prints names the same router: its /api/v1 is dropped (cellload adds the paths).
    expect(parseTargetUrl("http://127.0.0.1:8080/api/v1")).toBe("http://127.0.0.1:8080");
    expect(parseTargetUrl("http://127.0.0.1:8080/api/v1/")).toBe("http://127.0.0.1:8080");
  });

  it("formats rates as --rate accepts them, never with sixteen digits", () => {
    expect(formatRate(parseRate("5/m"))).toBe("5/m");
    expect(formatRate(parseRate("1/m"))).toBe("1/m");
    expect(formatRate(0.5)).toBe("0.5/s");
    expect(formatRate(20)).toBe("20/s");
    expect(formatRate(100 / 3)).toBe("33.33/s");
    expect(formatRate(0.0123)).toBe("0.0123/s");
  });

  it("refuses nonsense with a UsageError naming the flag", () => {
    for (const bad of ["-5", "0", "abc", "5/h", ""]) expect(() => parseRate(bad)).toThrow(/--rate/);
    expect(() => parseRate("-5")).toThrow(UsageError);
    expect(() => parseDuration("10 minutes")).toThrow(/duration/);
    expect(() => parseDuration("0s")).toThrow(/greater than zero/);
    expect(() => parseRamp("10s")).toThrow(/--ramp/);
    expect(() => parseRamp("10s:-3")).toThrow(/--ramp/);
    // A trailing or doubled comma is a typo, not a stage to skip.
    expect(() => parseRamp("2s:5,")).toThrow(UsageError);
    expect(() => parseRamp("2s:5,,1s:0")).toThrow(/--ramp/);
    expect(() => parseTargetUrl("localhost:8080")).toThrow(/--target/);
    expect(() => parseTargetUrl("ftp://x")).toThrow(/--target/);
  });
});

describe("thresholds", () => {
  it("parses k6's forms", () => {
    expect(parseThreshold("http_req_duration:p(99)<100")).toMatchObject({
      metric: "http_req_duration",
      percentile: 99,
      operator: "<",
      value: 100,
      tags: {},
    });
    expect(parseThreshold("http_req_duration{op:transfer}:p(95)<50")).toMatchObject({
      tags: { op: "transfer" },
      percentile: 95,
      value: 50,
    });
    expect(parseThreshold("http_req_duration{op:deposit,cell:cell-2}:avg<=20")).toMatchObject({
      tags: { op: "deposit", cell: "cell-2" },
      aggregation: "avg",
      operator: "<=",
    });
    expect(parseThreshold("http_req_failed:rate<0.001")).toMatchObject({
      metric: "http_req_failed",
      aggregation: "rate",
      value: 0.001,
    });
    expect(parseThreshold("checks:rate>0.999")).toMatchObject({ metric: "checks", operator: ">", value: 0.999 });
    expect(parseThreshold("dropped_iterations:count==0")).toMatchObject({
      metric: "dropped_iterations",
      operator: "==",
      value: 0,
    });
  });

  it("refuses malformed ones, saying why", () => {
    expect(() => parseThreshold("http_req_duration:p99<100")).toThrow(/malformed threshold/);
    expect(() => parseThreshold("latency:p(99)<100")).toThrow(/unknown metric latency/);
    expect(() => parseThreshold("http_req_failed:p(99)<1")).toThrow(/http_req_failed has rate/);
    expect(() => parseThreshold("http_req_duration{zone:a}:p(99)<1")).toThrow(/unknown tag zone/);
    expect(() => parseThreshold("http_req_duration:p(0)<1")).toThrow(/percentile/);
    expect(() => parseThreshold("checks:rate>")).toThrow(UsageError);
  });

  it("evaluates against recorded requests, per tag, and fails a threshold with no samples", () => {
    let now = 0;
    const recorder = new Recorder(() => now);
    // 100 deposits at 1..100 ms in cell-1, 10 transfers at 200 ms in cell-2 of which 1 failed.
    for (let i = 1; i <= 100; i++)
      recorder.record({ op: "deposit", cell: "cell-1", durationMs: i, failed: false, checksPassed: 1, checksTotal: 1 });
    for (let i = 0; i < 10; i++)
      recorder.record({
        op: "transfer",
        cell: "cell-2",
        durationMs: 200,
        failed: i === 0,
        checksPassed: i === 0 ? 0 : 1,
        checksTotal: 1,
      });
    now = 10_000;
    recorder.stop();
    const results = evaluateThresholds(
      [
        "http_req_duration{op:deposit}:p(99)<100",
        "http_req_duration{op:deposit}:p(50)<50",
        "http_req_duration{op:deposit}:max<100",
        "http_req_duration{cell:cell-2}:min>=199",
        "http_req_duration:p(99)<100",
        "http_req_failed:rate<0.005",
        "http_req_failed{op:deposit}:rate==0",
        "checks:rate>0.995",
        "http_reqs:rate>10",
        "http_req_duration{op:withdraw}:p(99)<100",
      ].map(parseThreshold),
      recorder,
    );
    expect(results.map((r) => [r.threshold, r.ok])).toEqual([
      ["http_req_duration{op:deposit}:p(99)<100", true],
      ["http_req_duration{op:deposit}:p(50)<50", false],
      ["http_req_duration{op:deposit}:max<100", false],
      ["http_req_duration{cell:cell-2}:min>=199", true],
      ["http_req_duration:p(99)<100", false],
      ["http_req_failed:rate<0.005", false],
      ["http_req_failed{op:deposit}:rate==0", true],
      ["checks:rate>0.995", false],
      ["http_reqs:rate>10", true],
      ["http_req_duration{op:withdraw}:p(99)<100", false],
    ]);
    expect(results[1]?.actual).toBeCloseTo(50, 0);
    expect(results[5]?.actual).toBeCloseTo(1 / 110, 6);
    expect(results[8]?.actual).toBeCloseTo(11, 6);
    expect(results[9]?.actual).toBeNull();
  });
});

describe("the recorder's measured period", () => {
  it("is exactly the offered duration it was stopped with, whatever the clock read at the start", () => {
    // 39.012412 + 90 - 39.012412 is 89.99999999999998 in doubles: a rate over it was a hair off, and a
    // run's 90 ms read as less than 90 ms (a CI failure of the test below).
    const recorder = new Recorder(() => 39.012412);
    recorder.stop(90);
    expect(recorder.elapsedSeconds()).toBe(0.09);
  });
});

describe("the recorder's percentiles", () => {
  it("never exceed the exact maximum (HDR's bucket may end above it)", () => {
    const recorder = new Recorder(() => 0);
    // 8.305 ms falls in a bucket whose highest equivalent value is 8.311 ms.
    recorder.record({ op: "deposit", cell: "c", durationMs: 8.305, failed: false, checksPassed: 1, checksTotal: 1 });
    recorder.stop();
    const d = recorder.durations({});
    expect(d?.max).toBe(8.305);
    expect(d?.percentile(99)).toBe(8.305);
    expect(recorder.timeline.find((p) => p.op === "*")?.p99).toBe(8.305);
  });
});

describe("iterations that throw", () => {
  it("count as failed checks of the run (under no op or cell tag) and in iteration_errors", async () => {
    let n = 0;
    const scenario: Scenario = {
      name: "flaky",
      description: "every third iteration throws before its request",
      money: false,
      async iteration(_ctx, it) {
        if (n++ % 3 === 0) throw new Error("pick from an empty list");
        await it.request({ op: "get-wallet", method: "GET", path: "/", token: "t", cell: "cell-1" });
      },
    };
    const client = { send: async () => ({ status: 200, text: "", headers: {} }) } as unknown as LoadClient;
    // 9 arrivals (90 ms at 100/s), however slowly they come: the count is the schedule's, not the clock's.
    const load: Load = { model: "open", rate: 100, ramp: undefined, durationMs: 90, maxInFlight: 100 };
    const { recorder, iterationErrors } = await offerLoad({
      load,
      scenario,
      ctx: {} as ScenarioContext,
      client,
      books: new Books(),
      thresholds: [],
      abortOnFail: false,
      progress: false,
    });
    expect(Object.fromEntries(iterationErrors)).toEqual({ "pick from an empty list": 3 });
    expect(recorder.checks({})).toEqual({ passed: 6, total: 9 });
    expect(recorder.checks({ op: "get-wallet" })).toEqual({ passed: 6, total: 6 });
    // Measured over the offered 90 ms (at least), not up to the last arrival at 80 ms.
    expect(recorder.elapsedSeconds()).toBeGreaterThanOrEqual(0.09);
    const results = evaluateThresholds(
      ["checks:rate>0.999", "iteration_errors:count==0", "iteration_errors:count==3"].map(parseThreshold),
      recorder,
    );
    expect(results.map((r) => r.ok)).toEqual([false, false, true]);
  });
});

describe("the arrival schedule", () => {
  it("spaces a constant rate evenly: rate × duration arrivals at i/rate", () => {
    const s = ArrivalSchedule.constant(50, 2000);
    expect(s.totalArrivals).toBe(100);
    expect(s.arrivalTime(0)).toBe(0);
    expect(s.arrivalTime(1)).toBeCloseTo(20, 9);
    expect(s.arrivalTime(99)).toBeCloseTo(1980, 9);
    expect(s.arrivalTime(100)).toBeUndefined();
  });

  it("follows a ramp: arrivals are the integral of the rate, in order", () => {
    // 0 → 100/s over 10 s (500 arrivals), then 100/s for 5 s (500), then 100 → 0 over 2 s (100).
    const s = new ArrivalSchedule(0, [
      { durationMs: 10_000, target: 100 },
      { durationMs: 5000, target: 100 },
      { durationMs: 2000, target: 0 },
    ]);
    expect(s.totalArrivals).toBe(1100);
    expect(s.durationMs).toBe(17_000);
    // Arrival n of the first stage is due when 5·t² = n: t = sqrt(n/5).
    expect(s.arrivalTime(125)).toBeCloseTo(5000, 6);
    expect(s.arrivalTime(500)).toBeCloseTo(10_000, 6);
    expect(s.arrivalTime(750)).toBeCloseTo(12_500, 6);
    expect(s.arrivalTime(1099)).toBeLessThan(17_000);
    let previous = -1;
    for (let i = 0; i < s.totalArrivals; i++) {
      const t = s.arrivalTime(i) as number;
      expect(t).toBeGreaterThan(previous);
      previous = t;
    }
    expect(s.rateAt(5000)).toBeCloseTo(50, 9);
    expect(s.rateAt(16_000)).toBeCloseTo(50, 9);
  });
});
