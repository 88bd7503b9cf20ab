import { DashboardBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { datasourceVariable, labelVariable, type Row, table, timeseries, withRows } from "../panels.js";

const SEL = `az=~"$az"`;
const rate = (metric: string, filter = SEL) => `rate(${metric}{${filter}}[$__rate_interval])`;

/** The routers (one per AZ): what they dispatch to which cell, what they refuse, and how fresh their map is. */
export function routerDashboard() {
  return withRows(
    new DashboardBuilder("Cellwallet / Router")
      .uid("cellwallet-router")
      .tags(["cellwallet"])
      .description("Dispatch per cell, failovers, shedding, rate limits, placement cache and registry freshness")
      .refresh("30s")
      .time({ from: "now-1h", to: "now" })
      .withVariable(datasourceVariable())
      .withVariable(labelVariable("az", "az", "cellwallet_router_requests_total")),
    [edgeRow(), dispatchRow(), placementRow()],
  );
}

function edgeRow(): Row {
  return {
    title: "Edge",
    panels: [
      timeseries(
        "Client requests by status",
        "Requests at the routers' edge",
        "reqps",
        [{ expr: `sum by (status) (${rate("cellwallet_router_requests_total")})`, legend: "{{status}}" }],
        12,
      ),
      timeseries(
        "Client p99 latency by route",
        "As clients see it (router included)",
        "s",
        [
          {
            expr: `histogram_quantile(0.99, sum by (route, le) (${rate("cellwallet_router_request_duration_seconds_bucket")}))`,
            legend: "{{route}}",
          },
        ],
        12,
      ),
    ],
  };
}

function dispatchRow(): Row {
  return {
    title: "Dispatch to cells",
    panels: [
      timeseries(
        "Dispatch rate per cell and outcome",
        "Attempts sent to each cell (HTTP status, connect-error, timeout)",
        "reqps",
        [
          {
            expr: `sum by (cell, outcome) (${rate("cellwallet_router_cell_requests_total")})`,
            legend: "{{cell}} {{outcome}}",
          },
        ],
        12,
      ),
      timeseries(
        "Dispatch p99 per cell",
        "Latency of attempts per cell",
        "s",
        [
          {
            expr: `histogram_quantile(0.99, sum by (cell, le) (${rate("cellwallet_router_cell_request_duration_seconds_bucket")}))`,
            legend: "{{cell}}",
          },
        ],
        12,
      ),
      timeseries(
        "Failovers",
        "Attempts retried on the next replica, by cell, replica AZ and reason",
        "ops",
        [
          {
            expr: `sum by (cell, cell_az, reason) (${rate("cellwallet_router_failovers_total")})`,
            legend: "{{cell}} {{cell_az}} {{reason}}",
          },
        ],
        8,
      ),
      timeseries(
        "Shed and cell-unavailable",
        "503s: shed above the in-flight limit, or no replica answered",
        "ops",
        [
          { expr: `sum by (cell) (${rate("cellwallet_router_shed_requests_total")})`, legend: "shed {{cell}}" },
          {
            expr: `sum by (cell) (${rate("cellwallet_router_cell_unavailable_total")})`,
            legend: "unavailable {{cell}}",
          },
        ],
        8,
      ),
      timeseries(
        "Rate-limited",
        "429s by the per-principal rate limit",
        "ops",
        [{ expr: `sum by (az) (${rate("cellwallet_router_rate_limited_total")})`, legend: "{{az}}" }],
        8,
      ),
      timeseries(
        "In flight per cell",
        "Requests in flight per cell (shedding starts at ROUTER_CELL_MAX_INFLIGHT)",
        "short",
        [{ expr: `sum by (cell) (cellwallet_router_cell_inflight{${SEL}})`, legend: "{{cell}}" }],
        12,
      ),
      table(
        "Replica health",
        "1 when the replica's last probe or request succeeded (per router AZ)",
        [{ expr: `min by (az, cell, cell_az) (cellwallet_router_endpoint_healthy{${SEL}})` }],
        12,
      ),
    ],
  };
}

function placementRow(): Row {
  return {
    title: "Placement",
    panels: [
      timeseries(
        "Placement cache",
        "hit (fresh), miss (read from the store), stale (store down: kept copy served)",
        "ops",
        [{ expr: `sum by (result) (${rate("cellwallet_router_placement_cache_total")})`, legend: "{{result}}" }],
        8,
      ),
      timeseries(
        "Registry age",
        "Seconds since each router last read the registry (static stability on a stale map)",
        "s",
        [{ expr: `max by (az) (cellwallet_router_registry_age_seconds{${SEL}})`, legend: "{{az}}" }],
        8,
      ),
      timeseries(
        "Placement store errors and relocation re-forwards",
        "Failed store calls; requests re-forwarded after Wallet-Location",
        "ops",
        [
          {
            expr: `sum by (operation) (${rate("cellwallet_router_placement_store_errors_total")})`,
            legend: "error {{operation}}",
          },
          { expr: `sum (${rate("cellwallet_router_relocation_reforwards_total")})`, legend: "re-forwards" },
        ],
        8,
      ),
    ],
  };
}
