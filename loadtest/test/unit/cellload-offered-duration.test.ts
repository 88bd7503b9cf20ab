import { describe, expect, it } from "vitest";
import { runOpenModel } from "../../src/cellload/executor.js";
import { Recorder } from "../../src/cellload/recorder.js";
import { ArrivalSchedule } from "../../src/cellload/schedule.js";
import { measure, parseThreshold } from "../../src/cellload/thresholds.js";

/**
 * The open model on a clock of the test's own (sleeping advances it): how long load was offered is the whole
 * schedule, or until a stop, never up to the last arrival. No wall clock, so no machine is too slow for it.
 */
function fakeClock(stopAt = Number.POSITIVE_INFINITY, oversleepMs = 0) {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms + oversleepMs;
    },
    iterate: async () => undefined,
    dropped: () => undefined,
    shouldStop: () => t >= stopAt,
  };
}

describe("the open model's offered duration", () => {
  it("is the whole --duration at 0.5/s for 6 s (arrivals at 0, 2 and 4 s), so the rate is 0.5/s", async () => {
    const clock = fakeClock();
    const result = await runOpenModel(ArrivalSchedule.constant(0.5, 6000), 10, clock);
    expect(result).toEqual({ started: 3, dropped: 0, offeredMs: 6000, aborted: false });
    const recorder = new Recorder(clock.now);
    for (let i = 0; i < result.started; i++) recorder.iteration();
    recorder.stop(result.offeredMs);
    expect(recorder.elapsedSeconds()).toBe(6);
    expect(measure(parseThreshold("iterations:rate<=0.5"), recorder)).toBe(0.5);
  });

  it("is the whole --duration at 5/m for 2 s (one arrival, at 0)", async () => {
    const result = await runOpenModel(ArrivalSchedule.constant(5 / 60, 2000), 10, fakeClock());
    expect(result).toEqual({ started: 1, dropped: 0, offeredMs: 2000, aborted: false });
  });

  it("is not stretched by timers that fire late (each sleep 3 ms over): 6 s at 0.5/s is still 0.5/s", async () => {
    const result = await runOpenModel(ArrivalSchedule.constant(0.5, 6000), 10, fakeClock(Number.POSITIVE_INFINITY, 3));
    expect(result).toMatchObject({ started: 3, offeredMs: 6000, aborted: false });
  });

  it("ends at a stop that comes after the last arrival, and says it was stopped", async () => {
    const result = await runOpenModel(ArrivalSchedule.constant(0.5, 6000), 10, fakeClock(5000));
    expect(result).toEqual({ started: 3, dropped: 0, offeredMs: 5000, aborted: true });
  });
});
