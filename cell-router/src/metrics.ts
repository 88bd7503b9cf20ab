import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Prometheus metrics of one router process. Every series carries the router's
 * `az` (a default label) and `cell` where one applies; the AZ of the replica a
 * request went to is `cell_az`. Labels stay bounded: route names, status codes,
 * cell ids and AZs from the registry, never a user, wallet or request id.
 */
export class RouterMetrics {
  readonly registry = new Registry();
  /** Client requests at the edge. */
  readonly requests: Counter<"method" | "route" | "status">;
  readonly latency: Histogram<"method" | "route" | "status">;
  /** Attempts sent to a cell replica; outcome = HTTP status, or connect-error / timeout / error. */
  readonly cellRequests: Counter<"cell" | "cell_az" | "outcome">;
  readonly cellLatency: Histogram<"cell" | "cell_az" | "outcome">;
  /** A failed attempt followed by one on the next replica; reason: connect-error, timeout, unavailable. */
  readonly failovers: Counter<"cell" | "cell_az" | "reason">;
  /** Requests forwarded a second time after a cell answered 503 with Wallet-Location (the wallet moved). */
  readonly relocationReforwards: Counter;
  readonly inflight: Gauge<"cell">;
  /** Requests refused at once because the cell already had ROUTER_CELL_MAX_INFLIGHT in flight. */
  readonly shed: Counter<"cell">;
  /** Requests answered 503 after no replica answered within the deadline. */
  readonly cellUnavailable: Counter<"cell">;
  readonly rateLimited: Counter;
  /** Placement lookups: hit (fresh), miss (read from the store), stale (store unreachable, kept copy served). */
  readonly placementCache: Counter<"result">;
  readonly placementStoreErrors: Counter<"operation">;
  readonly onboardings: Counter<"outcome">;
  readonly endpointHealthy: Gauge<"cell" | "cell_az">;
  readonly registryAge: Gauge;
  /** The registry's measured capacity per cell (cellctl cells set-capacity); absent for a cell never measured. */
  readonly cellCapacity: Gauge<"cell">;
  /** This router's forwarded requests/s per cell over the last 10 s (onboarding's ops/s rule). */
  readonly cellOpsRate: Gauge<"cell">;
  /** Read at every scrape; set by whoever owns the rate meter. */
  cellOpsRates: (() => Map<string, number>) | undefined;
  /** Read at every scrape; set by whoever owns the registry. */
  registryAgeSeconds: (() => number | undefined) | undefined;

  constructor(az: string) {
    this.registry.setDefaultLabels({ az });
    collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.requests = new Counter({
      name: "cellwallet_router_requests_total",
      help: "Client requests by route and status",
      labelNames: ["method", "route", "status"],
      registers,
    });
    this.latency = new Histogram({
      name: "cellwallet_router_request_duration_seconds",
      help: "Client request latency at the router by route and status",
      labelNames: ["method", "route", "status"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.cellRequests = new Counter({
      name: "cellwallet_router_cell_requests_total",
      help: "Attempts forwarded to cell replicas, by cell, replica AZ and outcome",
      labelNames: ["cell", "cell_az", "outcome"],
      registers,
    });
    this.cellLatency = new Histogram({
      name: "cellwallet_router_cell_request_duration_seconds",
      help: "Latency of attempts forwarded to cell replicas",
      labelNames: ["cell", "cell_az", "outcome"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.failovers = new Counter({
      name: "cellwallet_router_failovers_total",
      help: "Attempts that failed on one replica and were retried on the next",
      labelNames: ["cell", "cell_az", "reason"],
      registers,
    });
    this.relocationReforwards = new Counter({
      name: "cellwallet_router_relocation_reforwards_total",
      help: "Requests re-forwarded once after a cell answered that the wallet moved (Wallet-Location)",
      registers,
    });
    this.inflight = new Gauge({
      name: "cellwallet_router_cell_inflight",
      help: "Requests in flight per cell",
      labelNames: ["cell"],
      registers,
    });
    this.shed = new Counter({
      name: "cellwallet_router_shed_requests_total",
      help: "Requests refused (503) because the cell had too many in flight",
      labelNames: ["cell"],
      registers,
    });
    this.cellUnavailable = new Counter({
      name: "cellwallet_router_cell_unavailable_total",
      help: "Requests answered 503 because no replica of the cell answered in time",
      labelNames: ["cell"],
      registers,
    });
    this.rateLimited = new Counter({
      name: "cellwallet_router_rate_limited_total",
      help: "Requests refused (429) by the per-principal rate limit",
      registers,
    });
    this.placementCache = new Counter({
      name: "cellwallet_router_placement_cache_total",
      help: "User placement lookups: hit, miss or stale",
      labelNames: ["result"],
      registers,
    });
    this.placementStoreErrors = new Counter({
      name: "cellwallet_router_placement_store_errors_total",
      help: "Failed or timed-out calls to the placement store",
      labelNames: ["operation"],
      registers,
    });
    this.onboardings = new Counter({
      name: "cellwallet_router_onboardings_total",
      help: "Onboarding of unplaced users: placed, no-capacity, unavailable",
      labelNames: ["outcome"],
      registers,
    });
    this.endpointHealthy = new Gauge({
      name: "cellwallet_router_endpoint_healthy",
      help: "1 when the replica's last probe or request succeeded, 0 otherwise",
      labelNames: ["cell", "cell_az"],
      registers,
    });
    const metrics = this;
    this.cellCapacity = new Gauge({
      name: "cellwallet_router_cell_capacity_ops_per_second",
      help: "Measured capacity of each cell in wallet operations per second, from the registry (absent when never measured)",
      labelNames: ["cell"],
      registers,
    });
    this.cellOpsRate = new Gauge({
      name: "cellwallet_router_cell_ops_per_second",
      help: "Requests per second this router forwarded to each cell over the last 10 s",
      labelNames: ["cell"],
      registers,
      collect() {
        const rates = metrics.cellOpsRates?.();
        if (!rates) return;
        this.reset();
        for (const [cell, rate] of rates) this.set({ cell }, rate);
      },
    });
    this.registryAge = new Gauge({
      name: "cellwallet_router_registry_age_seconds",
      help: "Seconds since the cell registry was last read from the placement store (absent until one is known)",
      registers,
      collect() {
        const age = metrics.registryAgeSeconds?.();
        if (age !== undefined) this.set(age);
      },
    });
  }
}
