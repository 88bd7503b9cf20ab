import type { CellEndpoint } from "@cellwallet/placement";

/**
 * What `cellctl cells describe` reads from a cell's replicas: each AZ's /ready, and its current load as
 * wallet operations per second from two /metrics scrapes.
 */

export interface ReadyProbe {
  ready: boolean;
  status: number | null;
  ms: number;
  error?: string;
}

export async function probeReady(url: string, timeoutMs: number): Promise<ReadyProbe> {
  const started = performance.now();
  try {
    const response = await fetch(`${url.replace(/\/$/, "")}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return { ready: response.status === 200, status: response.status, ms: Math.round(performance.now() - started) };
  } catch (error) {
    const e = error as Error;
    return {
      ready: false,
      status: null,
      ms: Math.round(performance.now() - started),
      error: e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : e.message,
    };
  }
}

/** Wallet operations a replica has counted so far (all types and outcomes), from its /metrics; null when unreadable. */
async function operationsCounted(url: string, timeoutMs: number): Promise<number | null> {
  try {
    const response = await fetch(`${url.replace(/\/$/, "")}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200) return null;
    let total = 0;
    for (const line of (await response.text()).split("\n")) {
      if (line.startsWith("cellwallet_wallet_operations_total{"))
        total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
    return total;
  } catch {
    return null;
  }
}

/** Current load per AZ replica: wallet operations per second over `sampleMs` (two /metrics scrapes). */
export async function sampleLoad(
  endpoints: readonly CellEndpoint[],
  sampleMs: number,
  timeoutMs: number,
): Promise<{ opsPerSecond: number | null; byAz: Record<string, number | null> }> {
  const first = await Promise.all(endpoints.map((e) => operationsCounted(e.url, timeoutMs)));
  await new Promise((r) => setTimeout(r, sampleMs));
  const second = await Promise.all(endpoints.map((e) => operationsCounted(e.url, timeoutMs)));
  const byAz: Record<string, number | null> = {};
  let total: number | null = null;
  endpoints.forEach((e, i) => {
    const a = first[i];
    const b = second[i];
    const rate = a == null || b == null ? null : Math.round(((b - a) * 10_000) / sampleMs) / 10;
    byAz[e.az] = rate;
    if (rate !== null) total = (total ?? 0) + rate;
  });
  return { opsPerSecond: total, byAz };
}
