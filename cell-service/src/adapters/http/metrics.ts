import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { OperationalMetrics } from "./operational-metrics.js";

/** Prometheus metrics of one cell process; every series carries `cell` and `az`. Labels stay bounded. */
export class CellMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"method" | "route" | "status">;
  readonly latency: Histogram<"method" | "route" | "status">;
  readonly operations: Counter<"type" | "outcome">;
  /** Migration steps served by this cell (freeze, import, activate…) by outcome (ok, conflict, invalid, error). */
  readonly migrationSteps: Counter<"step" | "outcome">;
  /** Results of the periodic verification job (and of checkpoints): alert on invalid > 0 or a stale success. */
  readonly verificationInvalidWallets: Gauge;
  readonly verificationCheckpointsValid: Gauge;
  readonly verificationLastRun: Gauge;
  readonly verificationDuration: Gauge;
  /** Store timings, refusals by code, pending transfers and checkpoint age (see operational-metrics.ts). */
  readonly ops: OperationalMetrics;

  constructor(cellId: string, az: string, version = "dev") {
    this.registry.setDefaultLabels({ cell: cellId, az });
    collectDefaultMetrics({ register: this.registry });
    // Which build runs here: rollouts check it and dashboards split by it.
    new Gauge({
      name: "cellwallet_build_info",
      help: "Always 1; the version label is the build this process runs (CELL_VERSION)",
      labelNames: ["version"],
      registers: [this.registry],
    }).set({ version }, 1);
    this.requests = new Counter({
      name: "cellwallet_http_requests_total",
      help: "HTTP requests by route template and status",
      labelNames: ["method", "route", "status"],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: "cellwallet_http_request_duration_seconds",
      help: "HTTP request latency by route template and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [this.registry],
    });
    this.operations = new Counter({
      name: "cellwallet_wallet_operations_total",
      help: "Wallet operations by type and outcome (ok, refused, fenced, replayed, conflict)",
      labelNames: ["type", "outcome"],
      registers: [this.registry],
    });
    // Zero-valued series, so that a first refusal, replay or fence shows in rate() and dashboards see 0.
    for (const type of ["create-wallet", "deposit", "withdraw", "transfer"]) {
      for (const outcome of ["ok", "refused", "fenced", "replayed", "conflict"])
        this.operations.inc({ type, outcome }, 0);
    }
    this.migrationSteps = new Counter({
      name: "cellwallet_migration_steps_total",
      help: "Migration steps served by this cell (status, export, freeze, settle, import, activate, abandon, unfreeze, moved) by outcome",
      labelNames: ["step", "outcome"],
      registers: [this.registry],
    });
    this.verificationInvalidWallets = new Gauge({
      name: "cellwallet_verification_invalid_wallets",
      help: "Wallets found invalid by the last whole-cell verification",
      registers: [this.registry],
    });
    this.verificationCheckpointsValid = new Gauge({
      name: "cellwallet_verification_checkpoints_valid",
      help: "1 when the last verification found every checkpoint sound, else 0",
      registers: [this.registry],
    });
    this.verificationLastRun = new Gauge({
      name: "cellwallet_verification_last_run_timestamp_seconds",
      help: "When the last whole-cell verification finished (Unix time)",
      registers: [this.registry],
    });
    this.verificationDuration = new Gauge({
      name: "cellwallet_verification_duration_seconds",
      help: "How long the last whole-cell verification took",
      registers: [this.registry],
    });
    this.ops = new OperationalMetrics(this.registry);
  }
}
