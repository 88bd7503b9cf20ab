import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeDirectory } from "@cellwallet/store-support/fs";
import type { CapacityStep, CapacitySummary } from "./capacity.js";
import { renderReport } from "./report-html.js";

/**
 * A step that broke while the generator's own scheduling lag was at least half of the step's p99: the lag is
 * counted in the latency (no coordinated omission), so the break may be the load generator's, not the cell's.
 */
export function generatorBound(st: CapacityStep): boolean {
  return !st.held && st.generatorLagP99 !== null && st.p99 !== null && st.generatorLagP99 >= 0.5 * st.p99;
}

/** The table `cellload capacity` prints: every step by offered rate, then the highest rate that held. */
export function capacityText(s: CapacitySummary): string {
  const lines = [
    `capacity of ${s.cell ?? "the target"} (${s.scenario}, SLO ${s.slo}, errors ≤ ${s.maxError}):`,
    "OFFERED/s  ACHIEVED req/s     P50 ms     P99 ms   FAILED  GEN LAG P99 ms  RESULT",
  ];
  if (s.crossCellSkipped) lines.splice(1, 0, `cross-cell transfers skipped: ${s.crossCellSkipped}`);
  for (const st of [...s.steps].sort((a, b) => a.rate - b.rate)) {
    lines.push(
      `${String(st.rate).padStart(9)} ${String(st.achievedPerSecond).padStart(15)} ${String(st.p50 ?? "-").padStart(10)} ${String(st.p99 ?? "-").padStart(10)} ${`${(100 * st.failedRate).toFixed(2)}%`.padStart(8)} ${String(st.generatorLagP99 ?? "-").padStart(15)}  ${st.why}`,
    );
  }
  lines.push("");
  lines.push(...resultLines(s));
  for (const st of s.steps.filter(generatorBound))
    lines.push(
      `note: at ${st.rate}/s the load generator itself sent ${st.generatorLagP99} ms late at p99 (of the step's p99 ${st.p99} ms): the generator, not the cell, may have been the limit; measure from another machine`,
    );
  if (s.verify) {
    lines.push(`verify: ${s.verify.pass ? "PASS" : "FAIL"}`);
    for (const l of s.verify.lines) lines.push(`  ${l}`);
  }
  // Only a capacity found is worth recording: a lower bound recorded as capacity would let the cell be overfilled.
  if (s.found && s.maxOpsPerSecond !== null && s.cell)
    lines.push(`record it: cellctl cells set-capacity ${s.cell} --max-tps ${Math.floor(s.maxOpsPerSecond)}`);
  return lines.join("\n");
}

/** What the search found: the capacity, only a lower bound (never to be recorded), or nothing that held. */
function resultLines(s: CapacitySummary): string[] {
  if (s.maxRate === null) return ["no rate held the SLO (not even --start)"];
  const held = `${s.maxRate}/s offered, ${s.maxOpsPerSecond} req/s measured`;
  if (s.found) return [`highest rate that held: ${held}`];
  if (s.interrupted)
    return [
      `highest rate that held: ${held}`,
      "interrupted (Ctrl-C): the search stopped early, the rate above is only a lower bound (not the capacity: do not record it)",
    ];
  return [
    `every step held, up to --max-rate: the capacity was not found; ${held} is only a lower bound`,
    "raise --max-rate to find it; do not record a lower bound as the cell's capacity",
  ];
}

/** --out: capacity.json and report.html (the curve) in `dir`. */
export function writeCapacityOutputs(dir: string, summary: CapacitySummary, text: string): void {
  makeDirectory(dir);
  writeFileSync(join(dir, "capacity.json"), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(
    join(dir, "report.html"),
    renderReport({
      title: `cellload capacity — ${summary.target}${summary.cell ? ` (${summary.cell})` : ""}`,
      summaryText: text,
      charts: capacityCharts(summary.steps),
      data: summary,
    }),
  );
}

function capacityCharts(steps: CapacityStep[]) {
  const sorted = [...steps].sort((a, b) => a.rate - b.rate);
  const x = sorted.map((s) => s.rate);
  return [
    {
      title: "Latency against offered rate (ms)",
      xLabel: "offered iterations/s",
      yLabel: "ms",
      x,
      series: [
        { label: "p50", values: sorted.map((s) => s.p50) },
        { label: "p99", values: sorted.map((s) => s.p99) },
      ],
    },
    {
      title: "Throughput against offered rate",
      xLabel: "offered iterations/s",
      yLabel: "req/s",
      x,
      series: [{ label: "achieved req/s", values: sorted.map((s) => s.achievedPerSecond) }],
    },
    {
      title: "Failed requests (%) against offered rate",
      xLabel: "offered iterations/s",
      yLabel: "%",
      x,
      series: [{ label: "failed %", values: sorted.map((s) => 100 * s.failedRate) }],
    },
  ];
}
