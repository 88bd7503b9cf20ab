/**
 * The router's own Prometheus counters (GET /metrics), read before and after a
 * run: what the router measured at its edge and on its attempts to the cells,
 * and whether it failed over, shed or answered 5xx. A scrape costs the router a
 * little CPU, so it is read only between runs.
 */

export interface RouterSnapshot {
  /** Client requests at the edge by route (probes and /metrics left out): count and summed seconds. */
  edge: Map<string, { count: number; seconds: number }>;
  /** Edge answers with a 5xx status, by "route status". */
  edge5xx: Map<string, number>;
  /** Attempts to cells by cell: count and summed seconds. */
  attempts: Map<string, { count: number; seconds: number }>;
  failovers: number;
  shed: number;
  unavailable: number;
  rateLimited: number;
}

const IGNORED_ROUTES = new Set(["metrics", "health", "ready"]);

function labelsOf(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;
  for (const match of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[match[1] as string] = match[2] as string;
  return labels;
}

function add(map: Map<string, { count: number; seconds: number }>, key: string, field: "count" | "seconds", v: number) {
  const entry = map.get(key) ?? { count: 0, seconds: 0 };
  entry[field] += v;
  map.set(key, entry);
}

export function parseRouterMetrics(text: string): RouterSnapshot {
  const snapshot: RouterSnapshot = {
    edge: new Map(),
    edge5xx: new Map(),
    attempts: new Map(),
    failovers: 0,
    shed: 0,
    unavailable: 0,
    rateLimited: 0,
  };
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const [, name, labelText, raw] = match;
    const value = Number(raw);
    if (!Number.isFinite(value)) continue;
    const labels = labelsOf(labelText);
    switch (name) {
      case "cellwallet_router_request_duration_seconds_sum":
      case "cellwallet_router_request_duration_seconds_count": {
        const route = `${labels.method ?? "?"} ${labels.route ?? "?"}`;
        if (IGNORED_ROUTES.has(labels.route ?? "")) break;
        add(snapshot.edge, route, name.endsWith("_sum") ? "seconds" : "count", value);
        break;
      }
      case "cellwallet_router_requests_total":
        if ((labels.status ?? "").startsWith("5")) {
          const key = `${labels.method} ${labels.route} ${labels.status}`;
          snapshot.edge5xx.set(key, (snapshot.edge5xx.get(key) ?? 0) + value);
        }
        break;
      case "cellwallet_router_cell_request_duration_seconds_sum":
      case "cellwallet_router_cell_request_duration_seconds_count":
        add(snapshot.attempts, labels.cell ?? "?", name.endsWith("_sum") ? "seconds" : "count", value);
        break;
      case "cellwallet_router_failovers_total":
        snapshot.failovers += value;
        break;
      case "cellwallet_router_shed_requests_total":
        snapshot.shed += value;
        break;
      case "cellwallet_router_cell_unavailable_total":
        snapshot.unavailable += value;
        break;
      case "cellwallet_router_rate_limited_total":
        snapshot.rateLimited += value;
        break;
    }
  }
  return snapshot;
}

export async function scrapeRouter(routerUrl: string): Promise<RouterSnapshot> {
  const res = await fetch(`${routerUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`GET ${routerUrl}/metrics: ${res.status}`);
  return parseRouterMetrics(await res.text());
}

function diffTimed(after: Map<string, { count: number; seconds: number }>, before: typeof after) {
  const out = new Map<string, { count: number; seconds: number }>();
  for (const [key, a] of after) {
    const b = before.get(key) ?? { count: 0, seconds: 0 };
    if (a.count - b.count > 0) out.set(key, { count: a.count - b.count, seconds: a.seconds - b.seconds });
  }
  return out;
}

/** What happened in the router between two snapshots. */
export function routerDelta(before: RouterSnapshot, after: RouterSnapshot): RouterSnapshot {
  const edge5xx = new Map<string, number>();
  for (const [key, n] of after.edge5xx) {
    const d = n - (before.edge5xx.get(key) ?? 0);
    if (d > 0) edge5xx.set(key, d);
  }
  return {
    edge: diffTimed(after.edge, before.edge),
    edge5xx,
    attempts: diffTimed(after.attempts, before.attempts),
    failovers: after.failovers - before.failovers,
    shed: after.shed - before.shed,
    unavailable: after.unavailable - before.unavailable,
    rateLimited: after.rateLimited - before.rateLimited,
  };
}

const meanMs = (t: { count: number; seconds: number }) => ((1000 * t.seconds) / t.count).toFixed(2);

/** One line: the router's own mean times per route and per cell attempt, and anything abnormal. */
export function routerDeltaText(d: RouterSnapshot): string {
  const edge = [...d.edge.entries()].map(([route, t]) => `${route} ${t.count}× mean ${meanMs(t)} ms`).join(", ");
  const attempts = [...d.attempts.entries()].map(([cell, t]) => `${cell} ${t.count}× mean ${meanMs(t)} ms`).join(", ");
  const abnormal = [
    `failovers ${d.failovers}`,
    `shed ${d.shed}`,
    `cell-unavailable ${d.unavailable}`,
    `rate-limited ${d.rateLimited}`,
    ...[...d.edge5xx.entries()].map(([k, n]) => `${k} ×${n}`),
  ].join(", ");
  return `router's own view: edge ${edge || "-"}; attempts to cells ${attempts || "-"}; ${abnormal}`;
}
