/**
 * The canary as a rollout alarm: the controller reads the canary's /metrics while a step bakes, and a cell whose
 * canary journeys start failing rolls the step back (`cellctl rollout start|resume --canary-metrics <url>`).
 */

/** Failed journeys since the bake started that fire the alarm (one failure may be a blip, two are not). */
export const CANARY_FAILURES_ALARM = 2;

const SAMPLE = /^cellwallet_canary_journeys_total\{([^}]*)\}\s+(\S+)/;

/** Cumulative failed canary journeys of a cell in a /metrics text; undefined when the canary reports none for it. */
export function failedJourneys(metricsText: string, cellId: string): number | undefined {
  for (const line of metricsText.split("\n")) {
    const m = SAMPLE.exec(line);
    if (!m?.[1] || !m[2]) continue;
    const labels = m[1];
    if (labels.includes(`cell="${cellId}"`) && labels.includes('outcome="failed"')) return Number(m[2]);
  }
  return undefined;
}

/** Reads a canary's /metrics (`url` is its base or its /metrics); undefined when it cannot be read. */
export function canaryFailureProbe(url: string, timeoutMs = 2_000): (cellId: string) => Promise<number | undefined> {
  const metricsUrl = url.endsWith("/metrics") ? url : `${url.replace(/\/$/, "")}/metrics`;
  return async (cellId) => {
    try {
      const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(timeoutMs) });
      return res.ok ? failedJourneys(await res.text(), cellId) : undefined;
    } catch {
      return undefined;
    }
  };
}
