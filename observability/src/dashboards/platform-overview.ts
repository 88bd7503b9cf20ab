import { DashboardBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { datasourceVariable, type Row, stat, table, timeseries, withRows } from "../panels.js";
import { AVAILABILITY_TARGET, errorRatio, LATENCY_TARGET, slowRatio } from "../slo.js";

const API = `route=~"/api/.*"`;
const ALL = `sum by (cell) (rate(cellwallet_http_requests_total{${API}}[$__rate_interval]))`;
/** The error budgets (the share of attempts allowed to fail, or to be slow), as the panels print them. */
const budget = (1 - AVAILABILITY_TARGET).toFixed(4);
const latencyBudget = (1 - LATENCY_TARGET).toFixed(4);

/** Every cell side by side: which one is unhealthy, burning its budget, full, or shifted away from an AZ. */
export function platformOverview() {
  return withRows(
    new DashboardBuilder("Cellwallet / Platform overview")
      .uid("cellwallet-overview")
      .tags(["cellwallet"])
      .description("RED, SLO burn, fill and AZ weights of every cell")
      .refresh("30s")
      .time({ from: "now-3h", to: "now" })
      .withVariable(datasourceVariable()),
    [requestsRow(), slosRow(), cellsRow(), canariesRow()],
  );
}

function requestsRow(): Row {
  return {
    title: "Requests per cell (RED, at the cells)",
    panels: [
      timeseries(
        "Request rate per cell",
        "API requests answered by each cell's replicas",
        "reqps",
        [
          {
            expr: `sum by (cell) (rate(cellwallet_http_requests_total{${API}}[$__rate_interval]))`,
            legend: "{{cell}}",
          },
        ],
        8,
      ),
      timeseries(
        "Error ratio per cell",
        "Share of API requests answered 5xx by each cell",
        "percentunit",
        [
          {
            expr: `(sum by (cell) (rate(cellwallet_http_requests_total{${API},status=~"5.."}[$__rate_interval])) or ${ALL} * 0) / ${ALL}`,
            legend: "{{cell}}",
          },
        ],
        8,
      ),
      timeseries(
        "p99 latency per cell",
        "99th percentile of API request latency in each cell",
        "s",
        [
          {
            expr: `histogram_quantile(0.99, sum by (cell, le) (rate(cellwallet_http_request_duration_seconds_bucket{${API}}[$__rate_interval])))`,
            legend: "{{cell}}",
          },
        ],
        8,
      ),
    ],
  };
}

function slosRow(): Row {
  return {
    title: "SLOs per cell (at the routers)",
    panels: [
      timeseries(
        "Availability burn rate (1h)",
        `Failed attempts over 1 h divided by the error budget (${budget}); 14.4 pages, 6 warns`,
        "short",
        [{ expr: `(${errorRatio("1h")}) / ${budget}`, legend: "{{cell}}" }],
        8,
      ),
      timeseries(
        "Latency burn rate (1h)",
        `Attempts slower than the SLO threshold over 1 h divided by their budget (${latencyBudget})`,
        "short",
        [{ expr: `(${slowRatio("1h")}) / ${latencyBudget}`, legend: "{{cell}}" }],
        8,
      ),
      stat(
        "Availability error budget left (30 d)",
        "1 − failed share over 30 days (or the data kept) / budget; below 0 the SLO is missed",
        "percentunit",
        [{ expr: `1 - (${errorRatio("30d")}) / ${budget}`, legend: "{{cell}}" }],
        8,
      ),
    ],
  };
}

function cellsRow(): Row {
  return {
    title: "Cells: state, fill, headroom, AZ weights (the registry as the routers see it)",
    panels: [
      table(
        "Cells by state",
        "1 for each cell's state in the placement registry",
        [{ expr: "max by (cell, state) (cellwallet_router_cell_state) == 1" }],
        8,
      ),
      stat(
        "Fill per cell",
        "Users placed / user capacity",
        "percentunit",
        [
          {
            expr: "max by (cell) (cellwallet_router_cell_users) / max by (cell) (cellwallet_router_cell_user_capacity)",
            legend: "{{cell}}",
          },
        ],
        8,
      ),
      timeseries(
        "Load against capacity per cell",
        "Attempts per second sent to each cell / its measured capacity (cellctl cells set-capacity); the headroom alert fires above 0.8",
        "percentunit",
        [
          {
            expr: "sum by (cell) (rate(cellwallet_router_cell_requests_total[$__rate_interval])) / max by (cell) (cellwallet_router_cell_capacity_ops_per_second > 0)",
            legend: "{{cell}}",
          },
        ],
        8,
      ),
      timeseries(
        "AZ weights per cell",
        "Traffic weight of each cell's AZ; 0 = evacuated",
        "short",
        [{ expr: "max by (cell, cell_az) (cellwallet_router_cell_az_weight)", legend: "{{cell}} {{cell_az}}" }],
        12,
      ),
      timeseries(
        "Replicas healthy per cell",
        "Replicas the routers see healthy (probes and requests), per cell",
        "short",
        [{ expr: "min by (cell) (sum by (cell, az) (cellwallet_router_endpoint_healthy))", legend: "{{cell}}" }],
        12,
      ),
    ],
  };
}

function canariesRow(): Row {
  return {
    title: "Synthetic canaries (cellctl canary run)",
    panels: [
      timeseries(
        "Canary journey success per cell",
        "Share of canary journeys that succeeded",
        "percentunit",
        [
          {
            expr: 'sum by (cell) (rate(cellwallet_canary_journeys_total{outcome="ok"}[$__rate_interval])) / sum by (cell) (rate(cellwallet_canary_journeys_total[$__rate_interval]))',
            legend: "{{cell}}",
          },
        ],
        12,
      ),
      timeseries(
        "Canary journey duration per cell",
        "How long the last canary journey took, and its slowest step's p99",
        "s",
        [
          { expr: "max by (cell) (cellwallet_canary_last_journey_duration_seconds)", legend: "journey {{cell}}" },
          {
            expr: "histogram_quantile(0.99, sum by (cell, step, le) (rate(cellwallet_canary_step_duration_seconds_bucket[$__rate_interval])))",
            legend: "p99 {{cell}} {{step}}",
          },
        ],
        12,
      ),
    ],
  };
}
