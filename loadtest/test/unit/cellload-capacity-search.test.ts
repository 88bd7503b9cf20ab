import { describe, expect, it } from "vitest";
import { type CapacityStep, type CapacitySummary, capacityFound, searchCapacity } from "../../src/cellload/capacity.js";
import { capacityText } from "../../src/cellload/capacity-report.js";

/** The capacity search alone (no cell): which rates it offers and which step it reports as the highest held. */
function cellHolding(limit: number) {
  const offered: number[] = [];
  const measure = async (rate: number): Promise<CapacityStep> => {
    offered.push(rate);
    const held = rate <= limit;
    return {
      rate: Math.round(rate * 10) / 10,
      achievedPerSecond: Math.min(rate, limit),
      requests: Math.round(rate * 10),
      failedRate: held ? 0 : 0.5,
      dropped: 0,
      p50: 1,
      p99: held ? 10 : 500,
      latencySlo: held ? 10 : 500,
      generatorLagP99: 0,
      held,
      why: held ? "held" : "p(99)<100 broke (500.0)",
    };
  };
  return { offered, measure };
}

describe("cellload capacity search", () => {
  it("steps up geometrically to the first break, then bisects between the last held and the first broken rate", async () => {
    const cell = cellHolding(50);
    const held = await searchCapacity({ start: 20, factor: 2, maxRate: 1000, refine: 2 }, cell.measure);
    // 20, 40 held; 80 broke; bisect 60 (broke), then 50 (held).
    expect(cell.offered).toEqual([20, 40, 80, 60, 50]);
    expect(held?.rate).toBe(50);
  });

  it("stops at --max-rate when every step holds, offering --max-rate itself once", async () => {
    const cell = cellHolding(Number.POSITIVE_INFINITY);
    const held = await searchCapacity({ start: 20, factor: 2, maxRate: 100, refine: 2 }, cell.measure);
    expect(cell.offered).toEqual([20, 40, 80, 100]);
    expect(held?.rate).toBe(100);
  });

  it("reports nothing held (and does not bisect) when even --start breaks", async () => {
    const cell = cellHolding(10);
    const held = await searchCapacity({ start: 20, factor: 1.5, maxRate: 1000, refine: 3 }, cell.measure);
    expect(cell.offered).toEqual([20]);
    expect(held).toBeUndefined();
  });
});

describe("cellload capacity's table", () => {
  const step = (rate: number, p99: number, lag: number, held: boolean): CapacityStep => ({
    rate,
    achievedPerSecond: rate,
    requests: rate * 10,
    failedRate: 0,
    dropped: 0,
    p50: 2,
    p99,
    latencySlo: p99,
    generatorLagP99: lag,
    held,
    why: held ? "held" : `http_req_duration:p(99)<100 broke (${p99})`,
  });
  const summary = (steps: CapacityStep[]): CapacitySummary => ({
    schema: "cellload/capacity@1",
    scenario: "mixed",
    target: "http://127.0.0.1:8080",
    cell: "cell-1",
    slo: "http_req_duration:p(99)<100",
    maxError: 0.001,
    stepDurationMs: 10_000,
    steps,
    maxRate: 20,
    maxOpsPerSecond: 20,
    found: true,
    crossCellSkipped: null,
    verify: null,
    exitCode: 0,
  });

  it("says when a step broke with the load generator itself late by half its p99 or more", () => {
    const text = capacityText(summary([step(20, 40, 30, true), step(30, 206.5, 181.6, false)]));
    expect(text).toContain(
      "note: at 30/s the load generator itself sent 181.6 ms late at p99 (of the step's p99 206.5 ms): the generator, not the cell, may have been the limit",
    );
    expect(text).toContain("record it: cellctl cells set-capacity cell-1 --max-tps 20");
  });

  it("never offers a lower bound to record: every step held up to --max-rate, or Ctrl-C stopped the search", () => {
    const allHeld = capacityText({ ...summary([step(10, 5, 0, true), step(20, 6, 0, true)]), found: false });
    expect(allHeld).toContain(
      "every step held, up to --max-rate: the capacity was not found; 20/s offered, 20 req/s measured is only a lower bound",
    );
    expect(allHeld).not.toContain("record it");
    const interrupted = capacityText({ ...summary([step(20, 6, 0, true)]), found: false, interrupted: true });
    expect(interrupted).toContain("only a lower bound (not the capacity: do not record it)");
    expect(interrupted).not.toContain("record it:");
  });

  it("finds the capacity only when a judged step above the highest held broke, never after Ctrl-C", () => {
    const held = step(20, 40, 0, true);
    expect(capacityFound([held, step(30, 206, 0, false)], held, false)).toBe(true);
    expect(capacityFound([step(10, 5, 0, true), held], held, false)).toBe(false);
    expect(capacityFound([held, step(30, 206, 0, false)], held, true)).toBe(false);
    expect(capacityFound([step(20, 206, 0, false)], undefined, false)).toBe(false);
  });

  it("says nothing of the generator when the cell's own latency broke the step", () => {
    expect(capacityText(summary([step(20, 40, 30, true), step(30, 206.5, 12, false)]))).not.toContain("note:");
  });
});
