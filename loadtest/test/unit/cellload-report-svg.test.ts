import { describe, expect, it } from "vitest";
import type { TimePoint } from "../../src/cellload/recorder.js";
import { loadWords, niceTicks, renderSvg } from "../../src/cellload/report-svg.js";
import type { RunSummary } from "../../src/cellload/summary.js";
import { descendants, parseXml, readPlot } from "../svg-reader.js";

/**
 * report.svg drawn from a known timeline and read back from its own tick labels: every point of every line
 * where it belongs, gaps where no answer came, and a document any XML parser accepts.
 */

const point = (second: number, op: string, requests: number, failed: number, p50: number | null, p99: number | null) =>
  ({ second, op, requests, failed, p50, p95: p99, p99 }) satisfies TimePoint;

// Seconds 0..9 of a run; second 4 had no answer at all (a stall); errors in seconds 2 and 7.
const ALL = [
  [50, 0, 3.1, 12.5],
  [50, 0, 2.9, 10.2],
  [48, 3, 4.4, 88.8],
  [51, 0, 3.0, 9.9],
  null,
  [60, 0, 5.5, 140.3],
  [50, 0, 3.3, 11.1],
  [45, 7, 6.1, 97.6],
  [50, 0, 3.2, 10.0],
  [49, 0, 3.1, 9.4],
] as const;

function summaryOf(timeline: TimePoint[], over: Partial<RunSummary> = {}): RunSummary {
  return {
    scenario: "journey",
    target: "http://127.0.0.1:21234",
    cell: null,
    executor: { model: "open", rate: 50, ramp: null, durationMs: 10_000, maxInFlight: 1000, warmupMs: 0 },
    startedAt: "2026-12-05T21:00:00.000Z",
    elapsedSeconds: 10.02,
    requests: { count: 453, failed: 10, ratePerSecond: 45.2, latencyMs: null, statuses: {} },
    timeline,
    ...over,
  } as RunSummary;
}

const timeline: TimePoint[] = ALL.flatMap((row, second) =>
  row === null ? [] : [point(second, "*", row[0], row[1], row[2], row[3]), point(second, "deposit", 7, 0, 1, 2)],
);

describe("report.svg", () => {
  it("is well-formed, titled with scenario, target and rate, with axes, units and a legend", () => {
    const root = parseXml(renderSvg(summaryOf(timeline)));
    expect(root.name).toBe("svg");
    expect(root.attributes.xmlns).toBe("http://www.w3.org/2000/svg");
    const texts = descendants(root, (e) => e.name === "text").map((e) => e.text);
    expect(texts).toContain("cellload journey → http://127.0.0.1:21234, 50/s for 10 s");
    expect(texts).toEqual(expect.arrayContaining(["ok/s", "errors/s", "p50", "p99"]));
    expect(texts).toEqual(expect.arrayContaining(["requests per second", "latency (ms)", "second of the run (s)"]));
    expect(texts.find((t) => t.startsWith("started"))).toBe(
      "started 2026-12-05T21:00:00.000Z, 10.02 s; 453 requests, 10 failed",
    );
  });

  it("draws ok/s and errors/s at every second (a second without answers as 0) and p50/p99 with a gap there", () => {
    const plot = readPlot(parseXml(renderSvg(summaryOf(timeline))));
    const close = (got: [number, number][][], want: [number, number][][], tolerance: number) => {
      expect(got.map((s) => s.length)).toEqual(want.map((s) => s.length));
      got.flat().forEach(([s, v], i) => {
        const [ws, wv] = want.flat()[i] ?? [Number.NaN, Number.NaN];
        expect(Math.abs(s - ws)).toBeLessThan(0.01);
        expect(Math.abs(v - wv), `second ${ws}`).toBeLessThan(tolerance);
      });
    };
    const every = (f: (r: readonly number[]) => number) => [
      ALL.map((r, s): [number, number] => [s, r === null ? 0 : f(r)]),
    ];
    // 0.1 px of rounding on a 180 px axis: about 0.04 req/s up to 60/s, 0.1 ms up to 150 ms.
    close(
      plot.throughput?.ok ?? [],
      every((r) => (r[0] ?? 0) - (r[1] ?? 0)),
      0.05,
    );
    close(
      plot.throughput?.errors ?? [],
      every((r) => r[1] ?? 0),
      0.05,
    );
    const split = (col: number) => [
      ALL.slice(0, 4).map((r, s): [number, number] => [s, r?.[col] ?? Number.NaN]),
      ALL.slice(5).map((r, s): [number, number] => [s + 5, r?.[col] ?? Number.NaN]),
    ];
    close(plot.latency?.p50 ?? [], split(2), 0.15);
    close(plot.latency?.p99 ?? [], split(3), 0.15);
    expect(Math.max(...(plot.throughput?.ok?.flat().map(([, v]) => v) ?? []))).toBeCloseTo(60, 1);
  });

  it("escapes the target and says so when nothing was answered", () => {
    const target = `http://h.example/?a=1&b=<x>"'`;
    const root = parseXml(renderSvg(summaryOf([], { target })));
    const texts = descendants(root, (e) => e.name === "text").map((e) => e.text);
    expect(texts[0]).toBe(`cellload journey → ${target}, 50/s for 10 s`);
    expect(texts).toContain("no request was answered: nothing to plot");
    expect(descendants(root, (e) => e.name === "polyline")).toHaveLength(0);
  });

  it("words the load of each executor, and ticks the axes at 1, 2 or 5 × 10^k up to the maximum", () => {
    expect(loadWords({ model: "closed", vus: 8, durationMs: 30_000, warmupMs: 0 })).toBe("8 VUs for 30 s");
    expect(
      loadWords({
        model: "open",
        rate: null,
        ramp: [
          { durationMs: 30_000, target: 100 },
          { durationMs: 1500, target: 0 },
        ],
        durationMs: 31_500,
        maxInFlight: 1000,
        warmupMs: 0,
      }),
    ).toBe("ramp 30 s→100/s, 1.5 s→0/s");
    expect(niceTicks(60)).toEqual([0, 20, 40, 60]);
    expect(niceTicks(61)).toEqual([0, 20, 40, 60, 80]);
    expect(niceTicks(0)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(2.3)).toEqual([0, 0.5, 1, 1.5, 2, 2.5]);
  });

  it("the reader's parser refuses what is not well-formed (so that the checks above can fail)", () => {
    for (const bad of ["<svg><g></svg>", "<a b=1/>", "<a>&</a>", "<a/><b/>", '<a b="<"/>', '<a x="1" x="2"/>', "<a>"])
      expect(() => parseXml(bad), bad).toThrow(/not well-formed|raw|bare/);
    expect(parseXml('<a x="&amp;&#60;"><b/>t&lt;</a>').attributes.x).toBe("&<");
  });
});
