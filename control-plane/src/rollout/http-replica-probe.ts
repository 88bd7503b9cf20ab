import { parseReplicaMetrics, type ReplicaCounters } from "./replica-metrics.js";
import type { ReplicaProbe } from "./run-rollout.js";

/** Reads a replica's /ready and /metrics over HTTP; a replica that does not answer is not ready and has no sample. */
export function httpReplicaProbe(timeoutMs = 2000): ReplicaProbe {
  const base = (url: string) => url.replace(/\/$/, "");
  return {
    async ready(url) {
      try {
        const res = await fetch(`${base(url)}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
        const body = (await res.json().catch(() => ({}))) as { version?: unknown };
        return {
          ready: res.status === 200,
          ...(typeof body.version === "string" ? { version: body.version } : {}),
        };
      } catch {
        return { ready: false };
      }
    },
    async metrics(url): Promise<ReplicaCounters | undefined> {
      try {
        const res = await fetch(`${base(url)}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
        return res.status === 200 ? parseReplicaMetrics(await res.text()) : undefined;
      } catch {
        return undefined;
      }
    },
  };
}
