import { createServer, type Server } from "node:http";
import type { Rollout, RolloutEvent, RolloutStep } from "./rollout-state.js";

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const labels = (l: Record<string, string>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${esc(v)}"`)
    .join(",")}}`;

/**
 * The controller's phase events as Prometheus metrics, served on
 * `--metrics-port` while `rollout start|resume` runs. Labels are bounded:
 * event types, rollout statuses, step phases, and the cell/AZ being baked.
 */
export class RolloutMetrics {
  private readonly events = new Map<string, number>();
  private latest?: Rollout;
  private readonly readings = new Map<string, number>();

  onEvent(event: RolloutEvent, rollout: Rollout): void {
    this.events.set(event.type, (this.events.get(event.type) ?? 0) + 1);
    this.latest = rollout;
  }

  onReading(step: RolloutStep, reading: Record<string, number | undefined>): void {
    this.readings.clear();
    for (const [name, value] of Object.entries(reading)) {
      if (value !== undefined) this.readings.set(`${name}${labels({ cell: step.cellId, az: step.az })}`, value);
    }
  }

  render(): string {
    const out: string[] = [
      "# HELP cellwallet_rollout_events_total Rollout phase events written by this controller, by type",
      "# TYPE cellwallet_rollout_events_total counter",
    ];
    for (const [type, n] of [...this.events].sort())
      out.push(`cellwallet_rollout_events_total${labels({ type })} ${n}`);
    out.push(
      "# HELP cellwallet_rollout_status 1 for the status of the rollout this controller drives",
      "# TYPE cellwallet_rollout_status gauge",
    );
    for (const status of ["running", "paused", "waiting-gate", "completed", "aborted", "rolled-back"]) {
      out.push(`cellwallet_rollout_status${labels({ status })} ${this.latest?.status === status ? 1 : 0}`);
    }
    out.push("# HELP cellwallet_rollout_steps Steps of the rollout by phase", "# TYPE cellwallet_rollout_steps gauge");
    const phases = new Map<string, number>();
    for (const s of this.latest?.steps ?? []) phases.set(s.phase, (phases.get(s.phase) ?? 0) + 1);
    for (const [phase, n] of [...phases].sort()) out.push(`cellwallet_rollout_steps${labels({ phase })} ${n}`);
    out.push(
      "# HELP cellwallet_rollout_alarm_reading The latest alarm inputs of the step baking (error rates in percent, p99 in ms, requests in the window)",
      "# TYPE cellwallet_rollout_alarm_reading gauge",
    );
    for (const [key, value] of this.readings) {
      const [name, rest] = [key.slice(0, key.indexOf("{")), key.slice(key.indexOf("{") + 1)];
      out.push(`cellwallet_rollout_alarm_reading{reading="${name}",${rest} ${value}`);
    }
    return `${out.join("\n")}\n`;
  }

  serve(port: number): Promise<Server> {
    const server = createServer((req, res) => {
      if (req.url === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(this.render());
      } else {
        res.writeHead(404).end();
      }
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve(server));
    });
  }
}
