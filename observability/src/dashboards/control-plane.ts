import { DashboardBuilder, RowBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { datasourceVariable, stat, table, timeseries } from "../panels.js";

const rate = (metric: string, filter = "") => `rate(${metric}{${filter}}[$__rate_interval])`;

/** What the control plane is doing: user migrations, rollouts, onboarding, and which builds run where. */
export function controlPlaneDashboard() {
  return new DashboardBuilder("Cellwallet / Control plane")
    .uid("cellwallet-control-plane")
    .tags(["cellwallet"])
    .description("Migrations (steps, write pause), rollouts (phase, steps, alarms, rollbacks) and onboarding")
    .refresh("30s")
    .time({ from: "now-6h", to: "now" })
    .withVariable(datasourceVariable())
    .withRow(new RowBuilder("Migrations"))
    .withPanel(
      timeseries(
        "Migration steps by cell",
        "Steps the cells served (export, freeze, settle, import, activate…) by outcome",
        "ops",
        [
          {
            expr: `sum by (cell, step, outcome) (${rate("cellwallet_migration_steps_total")})`,
            legend: "{{cell}} {{step}} {{outcome}}",
          },
        ],
        12,
      ),
    )
    .withPanel(
      timeseries(
        "Write pause (fenced operations) and re-forwards",
        "Writes refused 503 while a wallet moved (the migration's write pause, clients retry), and router re-forwards to the new cell",
        "ops",
        [
          {
            expr: `sum by (cell) (${rate("cellwallet_wallet_operations_total", 'outcome="fenced"')})`,
            legend: "fenced {{cell}}",
          },
          { expr: `sum (${rate("cellwallet_router_relocation_reforwards_total")})`, legend: "re-forwards" },
        ],
        12,
      ),
    )
    .withRow(new RowBuilder("Rollouts (cellctl rollout start|resume --metrics-port)"))
    .withPanel(
      stat("Rollout status", "1 for the status of the rollout the controller drives", "short", [
        { expr: "max by (status) (cellwallet_rollout_status) == 1", legend: "{{status}}" },
      ]),
    )
    .withPanel(
      stat("Steps by phase", "Steps of the rollout by phase (pending, baking, done, rolled-back…)", "short", [
        { expr: "max by (phase) (cellwallet_rollout_steps)", legend: "{{phase}}" },
      ]),
    )
    .withPanel(
      timeseries(
        "Rollout events",
        "Phase events by type (alarm.fired and step.rolled-back are the ones to read)",
        "short",
        [{ expr: "sum by (type) (increase(cellwallet_rollout_events_total[$__rate_interval]))", legend: "{{type}}" }],
        12,
      ),
    )
    .withPanel(
      timeseries(
        "Alarm readings of the step baking",
        "Error rates (percent), p99 (ms) and requests the alarms compare",
        "short",
        [
          {
            expr: "max by (reading, cell, az) (cellwallet_rollout_alarm_reading)",
            legend: "{{reading}} {{cell}} {{az}}",
          },
        ],
        12,
      ),
    )
    .withPanel(
      table(
        "Builds per cell and AZ",
        "Which version every replica runs (rollout progress as the cells report it)",
        [{ expr: "max by (cell, az, version) (cellwallet_build_info)" }],
        12,
      ),
    )
    .withRow(new RowBuilder("Onboarding"))
    .withPanel(
      timeseries(
        "Onboardings by outcome",
        "New users placed by the routers: placed, no-capacity, unavailable",
        "ops",
        [{ expr: `sum by (outcome) (${rate("cellwallet_router_onboardings_total")})`, legend: "{{outcome}}" }],
        12,
      ),
    )
    .withPanel(
      timeseries(
        "Users per cell",
        "Users placed in each cell (registry)",
        "short",
        [{ expr: "max by (cell) (cellwallet_router_cell_users)", legend: "{{cell}}" }],
        12,
      ),
    );
}
