import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { JourneyResult } from "./canary-journey.js";

/**
 * The canary's Prometheus metrics, per cell (and the AZ the canary runs from), served on `--metrics-port`:
 * journeys by outcome, per-step latency and failures, the last journey's duration and last success.
 */
export class CanaryMetrics {
  readonly registry = new Registry();
  private readonly journeys: Counter<"cell" | "outcome">;
  private readonly steps: Histogram<"cell" | "step">;
  private readonly stepFailures: Counter<"cell" | "step">;
  private readonly lastDuration: Gauge<"cell">;
  private readonly lastSuccess: Gauge<"cell">;

  constructor(az: string) {
    this.registry.setDefaultLabels({ az });
    const registers = [this.registry];
    this.journeys = new Counter({
      name: "cellwallet_canary_journeys_total",
      help: "Canary customer journeys per cell by outcome (ok, failed)",
      labelNames: ["cell", "outcome"],
      registers,
    });
    this.steps = new Histogram({
      name: "cellwallet_canary_step_duration_seconds",
      help: "Latency of each step of the canary journey, per cell",
      labelNames: ["cell", "step"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.stepFailures = new Counter({
      name: "cellwallet_canary_step_failures_total",
      help: "Canary journey steps that failed, per cell and step",
      labelNames: ["cell", "step"],
      registers,
    });
    this.lastDuration = new Gauge({
      name: "cellwallet_canary_last_journey_duration_seconds",
      help: "How long the last canary journey of each cell took",
      labelNames: ["cell"],
      registers,
    });
    this.lastSuccess = new Gauge({
      name: "cellwallet_canary_last_success_timestamp_seconds",
      help: "When the last canary journey of each cell succeeded (Unix time)",
      labelNames: ["cell"],
      registers,
    });
  }

  record(result: JourneyResult, now = Date.now()): void {
    const cell = result.cellId;
    for (const outcome of ["ok", "failed"]) this.journeys.inc({ cell, outcome }, 0);
    this.journeys.inc({ cell, outcome: result.ok ? "ok" : "failed" });
    for (const s of result.steps) {
      this.steps.observe({ cell, step: s.step }, s.seconds);
      this.stepFailures.inc({ cell, step: s.step }, s.ok ? 0 : 1);
    }
    this.lastDuration.set({ cell }, result.seconds);
    if (result.ok) this.lastSuccess.set({ cell }, now / 1000);
  }

  serve(port: number, host = "127.0.0.1"): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url !== "/metrics") return void res.writeHead(404).end();
      this.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve(server));
    });
  }
}
