/**
 * The per-cell SLOs the dashboards show and the burn-rate alerts (rules/cellwallet-slo.rules.yml) enforce,
 * measured at the routers on every attempt they send to a cell (so a dead cell counts, which its own
 * metrics could not say).
 */
export const AVAILABILITY_TARGET = 0.999;
/** Latency SLO: this share of attempts answered within LATENCY_THRESHOLD_SECONDS (a histogram bucket). */
export const LATENCY_TARGET = 0.99;
export const LATENCY_THRESHOLD_SECONDS = 0.25;

const ATTEMPTS = "cellwallet_router_cell_requests_total";
/** Attempts that failed for the client's sake: 5xx answers, refused connections, timeouts. */
export const FAILED_OUTCOMES = `outcome=~"5..|connect-error|timeout|error"`;

/** Share of failed attempts per cell over `window` (a PromQL duration or Grafana's $__rate_interval). */
export function errorRatio(window: string, cellFilter = ""): string {
  const sel = cellFilter ? `,${cellFilter}` : "";
  const all = `sum by (cell) (rate(${ATTEMPTS}{${cellFilter}}[${window}]))`;
  // "or all * 0": 0 rather than no data for a cell without a single failure.
  return `(sum by (cell) (rate(${ATTEMPTS}{${FAILED_OUTCOMES}${sel}}[${window}])) or ${all} * 0) / ${all}`;
}

/** Share of attempts slower than the latency threshold per cell over `window`. */
export function slowRatio(window: string, cellFilter = ""): string {
  const sel = cellFilter ? `,${cellFilter}` : "";
  const bucket = "cellwallet_router_cell_request_duration_seconds_bucket";
  const count = "cellwallet_router_cell_request_duration_seconds_count";
  return `1 - sum by (cell) (rate(${bucket}{le="${LATENCY_THRESHOLD_SECONDS}"${sel}}[${window}])) / sum by (cell) (rate(${count}{${cellFilter}}[${window}]))`;
}
