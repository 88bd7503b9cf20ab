import { describe, expect, it } from "vitest";
import {
  DEFAULT_RESTART_POLICY,
  isCrashLooping,
  newSupervisionRecord,
  recordCrash,
  recordRestarted,
} from "../src/local/crash-backoff.js";

describe("crash-loop backoff", () => {
  it("doubles from 0.5 s up to the 30 s cap, and is crash-looping from the third crash in a row", () => {
    let record = newSupervisionRecord();
    const delays: number[] = [];
    const looping: boolean[] = [];
    for (let i = 0; i < 9; i++) {
      const next = recordCrash(record, DEFAULT_RESTART_POLICY, "SIGKILL", 1000 * i);
      record = next.record;
      delays.push(next.delayMs);
      looping.push(isCrashLooping(record, DEFAULT_RESTART_POLICY));
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(looping).toEqual([false, false, true, true, true, true, true, true, true]);
    expect(record.lastExit).toEqual({ reason: "SIGKILL", atMs: 8000 });
  });

  it("starts from the shortest wait again once the process stayed up resetAfterMs; a short run does not reset", () => {
    let record = recordCrash(newSupervisionRecord(), DEFAULT_RESTART_POLICY, "exit code 1", 0).record;
    record = recordCrash(record, DEFAULT_RESTART_POLICY, "exit code 1", 100).record;
    record = recordRestarted(record, 2_000);
    expect(record).toMatchObject({ restarts: 1, consecutiveCrashes: 2, upSinceMs: 2_000 });
    expect(isCrashLooping(record, DEFAULT_RESTART_POLICY)).toBe(false);
    const soon = recordCrash(record, DEFAULT_RESTART_POLICY, "SIGKILL", 5_000);
    expect(soon.delayMs).toBe(2000); // up 3 s only: the third crash in a row
    const later = recordCrash(record, DEFAULT_RESTART_POLICY, "SIGKILL", 12_000);
    expect(later.delayMs).toBe(500); // up 10 s: recovered
    expect(later.record.consecutiveCrashes).toBe(1);
  });
});
