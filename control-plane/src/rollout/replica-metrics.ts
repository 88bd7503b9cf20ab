/**
 * What the controller reads from one replica's Prometheus /metrics text: its
 * public API traffic (routes under /api/), counted cumulatively as Prometheus
 * counters are. Pure parsing and arithmetic, no I/O.
 */
export interface ReplicaCounters {
  /** API requests served. */
  requests: number;
  /** API requests answered 5xx. */
  errors: number;
  /** Cumulative latency histogram of API requests: upper bound (seconds, Infinity last) → count. */
  buckets: Array<[number, number]>;
  /**
   * When the process that answered started (ms since the epoch, whole seconds: prom-client's
   * process_start_time_seconds, which every cell build exports); how the controller sees a restart.
   */
  processStartMs?: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function labels(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text) return out;
  for (const m of text.matchAll(LABEL)) out[m[1] as string] = (m[2] as string).replace(/\\(.)/g, "$1");
  return out;
}

const isApi = (route: string | undefined) => route?.startsWith("/api/") === true;

/** Sums the API series of cellwallet_http_requests_total and the request-duration histogram. */
export function parseReplicaMetrics(text: string): ReplicaCounters {
  let requests = 0;
  let errors = 0;
  const buckets = new Map<number, number>();
  let processStartMs: number | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const [, name, labelText, valueText] = m;
    const value = Number(valueText);
    if (!Number.isFinite(value)) continue;
    if (name === "process_start_time_seconds") processStartMs = value * 1000;
    const l = labels(labelText);
    if (!isApi(l.route)) continue;
    if (name === "cellwallet_http_requests_total") {
      requests += value;
      if (Number(l.status) >= 500) errors += value;
    } else if (name === "cellwallet_http_request_duration_seconds_bucket" && l.le !== undefined) {
      const le = l.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(l.le);
      buckets.set(le, (buckets.get(le) ?? 0) + value);
    }
  }
  return {
    requests,
    errors,
    buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]),
    ...(processStartMs !== undefined ? { processStartMs } : {}),
  };
}

/** The counters' increase from `before` to `after`; a restarted process (counters went down) counts from zero. */
export function counterDelta(before: ReplicaCounters | undefined, after: ReplicaCounters): ReplicaCounters {
  if (!before || after.requests < before.requests) return after;
  const prior = new Map(before.buckets);
  return {
    requests: after.requests - before.requests,
    errors: Math.max(0, after.errors - before.errors),
    buckets: after.buckets.map(([le, n]) => [le, Math.max(0, n - (prior.get(le) ?? 0))]),
  };
}

export function sumCounters(list: readonly ReplicaCounters[]): ReplicaCounters {
  const buckets = new Map<number, number>();
  for (const c of list) for (const [le, n] of c.buckets) buckets.set(le, (buckets.get(le) ?? 0) + n);
  return {
    requests: list.reduce((s, c) => s + c.requests, 0),
    errors: list.reduce((s, c) => s + c.errors, 0),
    buckets: [...buckets.entries()].sort((a, b) => a[0] - b[0]),
  };
}

/** 5xx share in percent (0..100); undefined without requests. */
export function errorRatePercent(c: ReplicaCounters): number | undefined {
  return c.requests > 0 ? (100 * c.errors) / c.requests : undefined;
}

/**
 * A quantile from cumulative buckets, as Prometheus' histogram_quantile does:
 * linear inside the bucket that holds the rank; the last finite bound when the
 * rank falls in +Inf. Undefined without observations.
 */
export function quantileSeconds(c: ReplicaCounters, q: number): number | undefined {
  const total = c.buckets.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [le, count] of c.buckets) {
    if (count >= rank) {
      if (le === Number.POSITIVE_INFINITY) return prevBound;
      const inBucket = count - prevCount;
      return inBucket > 0 ? prevBound + ((le - prevBound) * (rank - prevCount)) / inBucket : le;
    }
    prevBound = le;
    prevCount = count;
  }
  return prevBound;
}
