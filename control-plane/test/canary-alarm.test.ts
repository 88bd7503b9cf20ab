import { describe, expect, it } from "vitest";
import { failedJourneys } from "../src/canary/canary-alarm.js";
import { CanaryMetrics } from "../src/canary/canary-metrics.js";

describe("reading the canary's failures for the rollout alarm", () => {
  it("reads a cell's failed journeys from the canary's own /metrics text", async () => {
    const metrics = new CanaryMetrics("az-1");
    const journey = (cellId: string, ok: boolean) => ({
      cellId,
      ok,
      seconds: 0.05,
      steps: [{ step: "deposit" as const, ok, seconds: 0.01 }],
    });
    metrics.record(journey("cell-1", false));
    metrics.record(journey("cell-1", false));
    metrics.record(journey("cell-1", true));
    metrics.record(journey("cell-10", false));
    const text = await metrics.registry.metrics();
    expect(failedJourneys(text, "cell-1")).toBe(2);
    expect(failedJourneys(text, "cell-10")).toBe(1);
    expect(failedJourneys(text, "cell-2")).toBeUndefined();
    expect(failedJourneys("garbage\n", "cell-1")).toBeUndefined();
  });
});
