import hdr from "hdr-histogram-js";
import type { MetricSource, Tags } from "./thresholds.js";

/**
 * Everything a run measures: per (op, cell) an HDR histogram of latencies
 * (recorded in microseconds, read in ms), request, failure and check counts;
 * per second of the run and per op, throughput, errors and p50/p95/p99 for the
 * report's plots. Latency is what the caller passes: from the intended send time
 * in the open model (no coordinated omission), from the actual send otherwise.
 */

type Histogram = ReturnType<typeof hdr.build>;

/**
 * A percentile in µs, at most the largest value recorded: HDR answers a bucket's highest equivalent value, which
 * may lie above the exact maximum (p99 8.31 ms over a max of 8.30 ms reads as a contradiction).
 */
function percentileOf(h: Histogram, p: number): number {
  return Math.min(h.getValueAtPercentile(p), h.maxValue);
}

function newHistogram(): Histogram {
  // 1 µs to 1 h at 3 significant digits; packed buckets keep the per-second ones small.
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: "packed",
  });
}

interface Series {
  op: string;
  cell: string;
  histogram: Histogram;
  requests: number;
  failed: number;
  checksPassed: number;
  checksTotal: number;
  /** "422 insufficient-funds", "error ECONNREFUSED", ... (non-2xx answers and transport errors). */
  statuses: Map<string, number>;
}

/** One point of the per-second time series of one op ("*" = every op). */
export interface TimePoint {
  second: number;
  op: string;
  requests: number;
  failed: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

interface OpenBucket {
  requests: number;
  failed: number;
  histogram: Histogram;
}

export interface RequestSample {
  op: string;
  cell: string;
  /** ms; undefined when no answer came (transport error): counted as failed, not in the durations. */
  durationMs: number | undefined;
  failed: boolean;
  checksPassed: number;
  checksTotal: number;
  /** Label for a non-2xx or a transport error, e.g. "422 insufficient-funds". */
  status?: string;
}

export class Recorder implements MetricSource {
  private readonly series = new Map<string, Series>();
  private readonly open = new Map<number, Map<string, OpenBucket>>();
  readonly timeline: TimePoint[] = [];
  private iterationCount = 0;
  /** Iterations that threw: each one a failed check of the run (no request's, so under no op or cell tag). */
  private iterationErrorCount = 0;
  /** How late the open model sent iterations' first requests (ms): the load generator's own lag. */
  private readonly lagHistogram = newHistogram();
  private droppedCount = 0;
  private startedAt = performance.now();
  /** The measured period's length once stopped (kept as given: startedAt + d - startedAt is not always d). */
  private stoppedAfterMs: number | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.startedAt = now();
  }

  restart(): void {
    this.startedAt = this.now();
  }

  /** Ends the measured period: after `elapsedMs` from the start when given (the offered duration), else now. */
  stop(elapsedMs?: number): void {
    this.stoppedAfterMs = elapsedMs ?? this.now() - this.startedAt;
    for (const second of [...this.open.keys()]) this.close(second);
  }

  elapsedSeconds(): number {
    return (this.stoppedAfterMs ?? this.now() - this.startedAt) / 1000;
  }

  iteration(): void {
    this.iterationCount += 1;
  }

  drop(): void {
    this.droppedCount += 1;
  }

  /** An iteration threw (a scenario's own error): part of its load never ran, so the run must not pass quietly. */
  iterationError(): void {
    this.iterationErrorCount += 1;
  }

  iterationErrors(): number {
    return this.iterationErrorCount;
  }

  /** Records how late (ms) an iteration's first request left against its intended time. */
  lag(ms: number): void {
    this.lagHistogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  /** The generator's scheduling lag: p50, p99 and max in ms; null when not measured (closed model). */
  lagSummary(): { p50: number; p99: number; max: number } | null {
    const h = this.lagHistogram;
    if (h.totalCount === 0) return null;
    const ms = (us: number) => Math.round(us) / 1000;
    return { p50: ms(percentileOf(h, 50)), p99: ms(percentileOf(h, 99)), max: ms(h.maxValue) };
  }

  iterations(): number {
    return this.iterationCount;
  }

  dropped(): number {
    return this.droppedCount;
  }

  record(sample: RequestSample): void {
    const key = `${sample.op}\u0000${sample.cell}`;
    let s = this.series.get(key);
    if (!s) {
      s = {
        op: sample.op,
        cell: sample.cell,
        histogram: newHistogram(),
        requests: 0,
        failed: 0,
        checksPassed: 0,
        checksTotal: 0,
        statuses: new Map(),
      };
      this.series.set(key, s);
    }
    s.requests += 1;
    if (sample.failed) s.failed += 1;
    s.checksPassed += sample.checksPassed;
    s.checksTotal += sample.checksTotal;
    if (sample.status !== undefined) s.statuses.set(sample.status, (s.statuses.get(sample.status) ?? 0) + 1);
    const micros = sample.durationMs === undefined ? undefined : Math.max(1, Math.round(sample.durationMs * 1000));
    if (micros !== undefined) s.histogram.recordValue(micros);

    const second = Math.floor((this.now() - this.startedAt) / 1000);
    let bucket = this.open.get(second);
    if (!bucket) {
      bucket = new Map();
      this.open.set(second, bucket);
      // Answers arrive a little out of order; seconds older than 3 are final.
      for (const old of [...this.open.keys()]) if (old < second - 3) this.close(old);
    }
    for (const op of [sample.op, "*"]) {
      let b = bucket.get(op);
      if (!b) {
        b = { requests: 0, failed: 0, histogram: newHistogram() };
        bucket.set(op, b);
      }
      b.requests += 1;
      if (sample.failed) b.failed += 1;
      if (micros !== undefined) b.histogram.recordValue(micros);
    }
  }

  private close(second: number): void {
    const bucket = this.open.get(second);
    if (!bucket) return;
    this.open.delete(second);
    for (const [op, b] of bucket) {
      const has = b.histogram.totalCount > 0;
      const at = (p: number) => (has ? percentileOf(b.histogram, p) / 1000 : null);
      this.timeline.push({ second, op, requests: b.requests, failed: b.failed, p50: at(50), p95: at(95), p99: at(99) });
    }
    this.timeline.sort((a, b) => a.second - b.second || a.op.localeCompare(b.op));
  }

  private matching(tags: Tags): Series[] {
    return [...this.series.values()].filter(
      (s) => (tags.op === undefined || s.op === tags.op) && (tags.cell === undefined || s.cell === tags.cell),
    );
  }

  /** Latency distribution (ms) of the requests with these tags. */
  durations(tags: Tags) {
    const merged = newHistogram();
    for (const s of this.matching(tags)) merged.add(s.histogram);
    if (merged.totalCount === 0) return undefined;
    return {
      count: merged.totalCount,
      percentile: (p: number) => percentileOf(merged, p) / 1000,
      mean: merged.mean / 1000,
      min: merged.minNonZeroValue / 1000,
      max: merged.maxValue / 1000,
    };
  }

  failed(tags: Tags): { failed: number; total: number } {
    let failed = 0;
    let total = 0;
    for (const s of this.matching(tags)) {
      failed += s.failed;
      total += s.requests;
    }
    return { failed, total };
  }

  checks(tags: Tags): { passed: number; total: number } {
    let passed = 0;
    // A thrown iteration is a failed check of the whole run; a filter by op or cell does not see it.
    let total = tags.op === undefined && tags.cell === undefined ? this.iterationErrorCount : 0;
    for (const s of this.matching(tags)) {
      passed += s.checksPassed;
      total += s.checksTotal;
    }
    return { passed, total };
  }

  /** Ops and cells seen, sorted. */
  tagValues(): { ops: string[]; cells: string[] } {
    const ops = new Set<string>();
    const cells = new Set<string>();
    for (const s of this.series.values()) {
      ops.add(s.op);
      cells.add(s.cell);
    }
    return { ops: [...ops].sort(), cells: [...cells].sort() };
  }

  statuses(tags: Tags): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.matching(tags)) for (const [k, v] of s.statuses) out[k] = (out[k] ?? 0) + v;
    return out;
  }
}
