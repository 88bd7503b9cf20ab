/**
 * Which replicas of a cell to try, in which order. Pure: the same endpoints,
 * AZ, health and random numbers always give the same order.
 *
 * - weight 0 (or anything not a positive number) evacuates an endpoint: never used;
 * - healthy endpoints come before unhealthy ones (these stay as a last resort,
 *   since health marks can be stale or wrong, and trying costs little);
 * - within each group, the router's own AZ comes first (no cross-AZ hop, no
 *   cross-AZ traffic cost), then the other AZs in a weighted random order, so
 *   failover traffic spreads over them in proportion to their weights.
 */

export interface EndpointLike {
  az: string;
  url: string;
  weight: number;
}

export interface OrderOptions {
  /** The AZ the router runs in. */
  ownAz: string;
  /** Health of an endpoint by URL (unknown endpoints are healthy until a probe says otherwise). */
  isHealthy(url: string): boolean;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
}

function usable(endpoint: EndpointLike): boolean {
  return typeof endpoint.weight === "number" && Number.isFinite(endpoint.weight) && endpoint.weight > 0;
}

/**
 * Weighted random permutation (Efraimidis–Spirakis): each endpoint draws the key
 * u^(1/w); sorting by descending key puts an endpoint first with probability
 * proportional to its weight.
 */
export function weightedShuffle<T extends EndpointLike>(endpoints: readonly T[], random: () => number): T[] {
  return endpoints
    .map((endpoint) => {
      // 1 - random() is in (0, 1]: log never sees 0.
      const u = 1 - random();
      return { endpoint, key: Math.log(u) / endpoint.weight };
    })
    .sort((a, b) => b.key - a.key || (a.endpoint.url < b.endpoint.url ? -1 : 1))
    .map((x) => x.endpoint);
}

export function orderEndpoints<T extends EndpointLike>(endpoints: readonly T[], options: OrderOptions): T[] {
  const random = options.random ?? Math.random;
  const candidates = endpoints.filter(usable);
  const group = (healthy: boolean): T[] => {
    const inGroup = candidates.filter((e) => options.isHealthy(e.url) === healthy);
    const own = inGroup.filter((e) => e.az === options.ownAz);
    const others = inGroup.filter((e) => e.az !== options.ownAz);
    return [...weightedShuffle(own, random), ...weightedShuffle(others, random)];
  };
  return [...group(true), ...group(false)];
}
