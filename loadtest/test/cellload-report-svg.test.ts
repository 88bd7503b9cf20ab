import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CellProcess, startCellProcess } from "../../test-support/cell-process.js";
import { runCellload } from "./run-cellload.js";
import { descendants, parseXml, readPlot } from "./svg-reader.js";

/**
 * `cellload run --out` against a real cell process writes report.svg beside report.html: a well-formed SVG whose
 * lines, read back from its own tick labels, are the run's per-second series in summary.json — one point per
 * second of the run, the same peak, and requests that add up to the summary's count.
 */

describe("cellload run --out: report.svg", () => {
  let cell: CellProcess;
  beforeAll(async () => {
    cell = await startCellProcess({
      WALLET_STORE: "sqlite",
      WALLET_SQLITE_PATH: join(mkdtempSync(join(tmpdir(), "cellload-svg-")), "ledger.sqlite"),
      CELL_ID: "cell-svg",
    });
  }, 60_000);
  afterAll(async () => {
    await cell?.stop();
  });

  it("plots the run's per-second throughput and latency, as in summary.json", async () => {
    const out = mkdtempSync(join(tmpdir(), "cellload-svg-out-"));
    const run = await runCellload([
      "run",
      "deposit",
      "--target",
      cell.url,
      "--rate",
      "20",
      "--duration",
      "4s",
      "--users",
      "5",
      "--out",
      out,
      "--threshold",
      "iterations:count==80",
    ]);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    const root = parseXml(readFileSync(join(out, "report.svg"), "utf8"));
    expect(root.name).toBe("svg");
    const texts = descendants(root, (e) => e.name === "text").map((e) => e.text);
    expect(texts).toContain(`cellload deposit → ${cell.url}, 20/s for 4 s`);

    const all = (summary.timeline as { second: number; op: string; requests: number; failed: number; p99: number }[])
      .filter((p) => p.op === "*")
      .sort((a, b) => a.second - b.second);
    const seconds = (all[all.length - 1]?.second ?? -1) + 1;
    // 4 s of load: seconds 0..3, and more when the last answers came after the 4th second ended.
    expect(seconds).toBeGreaterThanOrEqual(4);
    expect(seconds).toBeLessThanOrEqual(15); // answers later than that would have timed out (10 s)
    const plot = readPlot(root);
    const ok = plot.throughput?.ok ?? [];
    const errors = plot.throughput?.errors ?? [];
    expect(ok).toHaveLength(1);
    expect(ok[0]).toHaveLength(seconds);
    expect(errors[0]).toHaveLength(seconds);
    // Read back to the nearest request (1 req/s is several pixels at these rates): the per-second counts exactly.
    const okPerSecond = (ok[0] ?? []).map(([s, v]) => [Math.round(s), Math.round(v)]);
    const want = Array.from({ length: seconds }, (_, s) => {
      const p = all.find((q) => q.second === s);
      return [s, p ? p.requests - p.failed : 0];
    });
    expect(okPerSecond).toEqual(want);
    expect(Math.max(...okPerSecond.map(([, v]) => v ?? 0))).toBe(Math.max(...all.map((p) => p.requests - p.failed)));
    const sum = (line: [number, number][] | undefined) => (line ?? []).reduce((n, [, v]) => n + Math.round(v), 0);
    expect(sum(ok[0]) + sum(errors[0])).toBe(summary.requests.count);
    expect(sum(errors[0])).toBe(summary.requests.failed);

    // p99 per second, read back within a pixel's worth of the axis.
    const p99 = (plot.latency?.p99 ?? []).flat();
    expect(p99).toHaveLength(all.length);
    const top = Math.max(...all.map((p) => p.p99));
    p99.forEach(([s, v], i) => {
      expect(Math.round(s)).toBe(all[i]?.second);
      expect(Math.abs(v - (all[i]?.p99 ?? Number.NaN))).toBeLessThan(top / 100);
    });
  }, 90_000);
});
