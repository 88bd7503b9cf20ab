/**
 * cellload's default thresholds, used when no --threshold is given: the
 * platform's SLOs at the router from docs/slo.md (keep the two in step).
 */
export const DEFAULT_THRESHOLDS = [
  // Availability: at most 1 request in 1000 fails (5xx, timeout, unexpected answer).
  "http_req_failed:rate<0.001",
  "checks:rate>0.999",
  // Latency: p99 of every operation class under 100 ms at the router.
  "http_req_duration:p(99)<100",
] as const;
