import { describe, expect, it } from "vitest";
import { type CapacityStep, searchCapacity } from "../../src/cellload/capacity.js";

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
