import type { ArrivalSchedule } from "./schedule.js";

/**
 * The two ways of offering load.
 *
 * Open model (constant or ramping arrival rate): iteration i starts when the
 * schedule says, whether or not earlier ones have answered, and is told its
 * intended start so its latency counts from there: a server that slows down
 * cannot slow the offered load down with it (no coordinated omission). At most
 * `maxInFlight` iterations run at once; an arrival beyond that is dropped and
 * counted (k6's dropped_iterations), never delayed.
 *
 * Closed model (constant virtual users): each VU starts its next iteration when
 * its previous one ends; latency counts from the actual send.
 */

export interface ExecutorHooks {
  /** Starts one iteration; `intendedAt` (performance.now() time) in the open model. */
  iterate(intendedAt: number | undefined): Promise<void>;
  /** An arrival dropped because maxInFlight iterations were running. */
  dropped(): void;
  /** Checked between arrivals: true stops the run early (--abort-on-fail). */
  shouldStop(): boolean;
  now?: () => number;
  /** Waits `ms` (a test's clock advances instead). */
  sleep?: (ms: number) => Promise<void>;
}

export interface ExecutorResult {
  started: number;
  dropped: number;
  /**
   * How long load was offered (ms), without waiting for the last answers: the whole schedule (--duration), or
   * until a stop. Per-second rates are over this, never up to the last arrival (at 0.5/s for 6 s that is 4 s).
   */
  offeredMs: number;
  aborted: boolean;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runOpenModel(
  schedule: ArrivalSchedule,
  maxInFlight: number,
  hooks: ExecutorHooks,
): Promise<ExecutorResult> {
  const now = hooks.now ?? (() => performance.now());
  const sleep = hooks.sleep ?? realSleep;
  const inFlight = new Set<Promise<void>>();
  const start = now();
  let i = 0;
  let dropped = 0;
  let aborted = false;
  for (;;) {
    const due = schedule.arrivalTime(i);
    if (due === undefined) break;
    if (hooks.shouldStop()) {
      aborted = true;
      break;
    }
    const wait = start + due - now();
    if (wait > 1) {
      // Sleep until the next arrival (at most 50 ms at once, to notice an abort promptly).
      await sleep(Math.min(wait, 50));
      continue;
    }
    // Start every arrival that is due by now (several per timer tick at high rates).
    const elapsed = now() - start;
    for (
      let next = schedule.arrivalTime(i);
      next !== undefined && next <= elapsed + 1;
      next = schedule.arrivalTime(i)
    ) {
      i += 1;
      if (inFlight.size >= maxInFlight) {
        dropped += 1;
        hooks.dropped();
        continue;
      }
      const p: Promise<void> = hooks
        .iterate(start + next)
        .catch(() => undefined)
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    // Let the started requests' I/O run before looking at the clock again.
    await new Promise<void>((r) => setImmediate(r));
  }
  // The last arrivals went out at `sentUntil`: later than the schedule's end only when the generator lagged.
  const sentUntil = now() - start;
  if (!aborted) aborted = await waitForTheEnd(start + schedule.durationMs, now, sleep, hooks.shouldStop);
  // A run that ran its course lasted its schedule (a timer's few ms past the end are not load offered).
  const offeredMs = aborted ? now() - start : Math.max(schedule.durationMs, sentUntil);
  await Promise.all(inFlight);
  return { started: i - dropped, dropped, offeredMs, aborted };
}

/**
 * After the last arrival the run still lasts until the schedule's end (quiet, as the schedule says); true when a
 * stop came first. Without it a slow rate (0.5/s, 5/m) would be measured over a fraction of --duration.
 */
async function waitForTheEnd(
  end: number,
  now: () => number,
  sleep: (ms: number) => Promise<void>,
  shouldStop: () => boolean,
): Promise<boolean> {
  for (let left = end - now(); left > 0; left = end - now()) {
    if (shouldStop()) return true;
    await sleep(Math.min(left, 50));
  }
  return false;
}

export async function runClosedModel(vus: number, durationMs: number, hooks: ExecutorHooks): Promise<ExecutorResult> {
  const now = hooks.now ?? (() => performance.now());
  const start = now();
  const end = start + durationMs;
  let started = 0;
  let aborted = false;
  const vu = async () => {
    while (now() < end) {
      if (hooks.shouldStop()) {
        aborted = true;
        return;
      }
      started += 1;
      await hooks.iterate(undefined).catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: vus }, vu));
  return { started, dropped: 0, offeredMs: Math.min(now(), end) - start, aborted };
}
