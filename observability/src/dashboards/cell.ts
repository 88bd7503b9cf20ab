import { DashboardBuilder } from "@grafana/grafana-foundation-sdk/dashboard";
import { datasourceVariable, labelVariable, type Row, stat, table, timeseries, withRows } from "../panels.js";

const SEL = `cell=~"$cell",az=~"$az"`;
const API = `${SEL},route=~"/api/.*"`;
const rate = (metric: string, filter = SEL) => `rate(${metric}{${filter}}[$__rate_interval])`;
const p99 = (metric: string, by: string, filter = SEL) =>
  `histogram_quantile(0.99, sum by (${by}, le) (${rate(`${metric}_bucket`, filter)}))`;

const allByAz = `sum by (az) (${rate("cellwallet_http_requests_total", API)})`;

/** One cell (or several) in depth: its routes and AZs, money operations, store, integrity and runtime. */
export function cellDashboard() {
  return withRows(
    new DashboardBuilder("Cellwallet / Cell")
      .uid("cellwallet-cell")
      .tags(["cellwallet"])
      .description(
        "RED per route and AZ, money operations, cross-cell transfers, integrity, store and runtime of a cell",
      )
      .refresh("30s")
      .time({ from: "now-1h", to: "now" })
      .withVariable(datasourceVariable())
      .withVariable(labelVariable("cell", "cell", "cellwallet_build_info"))
      .withVariable(labelVariable("az", "az", "cellwallet_build_info", '{cell=~"$cell"}')),
    [requestsRow(), moneyRow(), integrityRow(), storeRow(), runtimeRow()],
  );
}

function requestsRow(): Row {
  return {
    title: "Requests (RED per route and AZ)",
    panels: [
      timeseries(
        "Request rate by route",
        "API requests per route template",
        "reqps",
        [
          {
            expr: `sum by (route, method) (${rate("cellwallet_http_requests_total", API)})`,
            legend: "{{method}} {{route}}",
          },
        ],
        8,
      ),
      timeseries(
        "Errors by route and status",
        "4xx and 5xx answers per route",
        "reqps",
        [
          {
            expr: `sum by (route, status) (${rate("cellwallet_http_requests_total", `${API},status=~"[45].."`)})`,
            legend: "{{status}} {{route}}",
          },
        ],
        8,
      ),
      timeseries(
        "p99 latency by route",
        "99th percentile per route template",
        "s",
        [{ expr: p99("cellwallet_http_request_duration_seconds", "route", API), legend: "{{route}}" }],
        8,
      ),
      timeseries(
        "Request rate by AZ",
        "API requests per replica AZ",
        "reqps",
        [{ expr: `sum by (az) (${rate("cellwallet_http_requests_total", API)})`, legend: "{{az}}" }],
        8,
      ),
      timeseries(
        "5xx ratio by AZ",
        "Share of API requests answered 5xx per AZ",
        "percentunit",
        [
          {
            expr: `(sum by (az) (${rate("cellwallet_http_requests_total", `${API},status=~"5.."`)}) or ${allByAz} * 0) / ${allByAz}`,
            legend: "{{az}}",
          },
        ],
        8,
      ),
      timeseries(
        "p99 latency by AZ",
        "99th percentile of API latency per AZ",
        "s",
        [{ expr: p99("cellwallet_http_request_duration_seconds", "az", API), legend: "{{az}}" }],
        8,
      ),
    ],
  };
}

function moneyRow(): Row {
  return {
    title: "Money operations",
    panels: [
      timeseries(
        "Operations by type and outcome",
        "ok, refused, replayed (Idempotency-Key answered from its record), conflict (key in use or reused), fenced (wallet moving)",
        "ops",
        [
          {
            expr: `sum by (type, outcome) (${rate("cellwallet_wallet_operations_total")})`,
            legend: "{{type}} {{outcome}}",
          },
        ],
        12,
      ),
      timeseries(
        "Refusals by problem code",
        "insufficient-funds, wallet-not-active…",
        "ops",
        [{ expr: `sum by (type, code) (${rate("cellwallet_wallet_refusals_total")})`, legend: "{{type}} {{code}}" }],
        12,
      ),
      timeseries(
        "Contention",
        "Commits re-decided after a write conflict, and requests answered 503 when conflicts outlasted the budget",
        "ops",
        [
          { expr: `sum (${rate("cellwallet_store_contention_retries_total")})`, legend: "retries" },
          { expr: `sum (${rate("cellwallet_store_contention_errors_total")})`, legend: "503 contention" },
        ],
        12,
      ),
      timeseries(
        "Cross-cell transfers pending",
        "Outgoing transfers waiting for the other cell's credit, and the oldest one's age",
        "short",
        [
          { expr: `max by (cell) (cellwallet_cross_cell_transfers_pending{${SEL}})`, legend: "pending {{cell}}" },
          {
            expr: `max by (cell) (cellwallet_cross_cell_transfer_oldest_pending_age_seconds{${SEL}})`,
            legend: "oldest age (s) {{cell}}",
          },
        ],
        12,
      ),
    ],
  };
}

function integrityRow(): Row {
  return {
    title: "Integrity",
    panels: [
      stat("Invalid wallets (last verification)", "Wallets whose chain failed the periodic verification", "short", [
        { expr: `max by (cell) (cellwallet_verification_invalid_wallets{${SEL}})`, legend: "{{cell}}" },
      ]),
      stat("Checkpoints sound", "1 when the last verification found every checkpoint sound", "short", [
        { expr: `min by (cell) (cellwallet_verification_checkpoints_valid{${SEL}})`, legend: "{{cell}}" },
      ]),
      stat("Verification interval", "VERIFY_INTERVAL_MS (0: periodic verification off)", "s", [
        { expr: `max by (cell) (cellwallet_verification_interval_seconds{${SEL}})`, legend: "{{cell}}" },
      ]),
      stat("Checkpoint age", "Age of the latest signed checkpoint (alert above twice the interval)", "s", [
        { expr: `min by (cell) (cellwallet_checkpoint_age_seconds{${SEL}})`, legend: "{{cell}}" },
      ]),
    ],
  };
}

function storeRow(): Row {
  return {
    title: "Store",
    panels: [
      timeseries(
        "SQLite commit and fsync p99",
        "Group commit (BEGIN..COMMIT) and the COMMIT alone (WAL write + fsync)",
        "s",
        [
          { expr: p99("cellwallet_sqlite_transaction_duration_seconds", "az"), legend: "transaction {{az}}" },
          { expr: p99("cellwallet_sqlite_commit_duration_seconds", "az"), legend: "commit+fsync {{az}}" },
        ],
        8,
      ),
      timeseries(
        "SQLite operations per group commit",
        "Average operations sharing one fsync",
        "short",
        [
          {
            expr: `sum by (az) (${rate("cellwallet_sqlite_commit_operations_sum")}) / sum by (az) (${rate("cellwallet_sqlite_commit_operations_count")})`,
            legend: "{{az}}",
          },
        ],
        8,
      ),
      timeseries(
        "DynamoDB call p99 by operation",
        "Ledger store calls, the SDK's retries included",
        "s",
        [{ expr: p99("cellwallet_dynamodb_call_duration_seconds", "operation"), legend: "{{operation}}" }],
        8,
      ),
      timeseries(
        "DynamoDB throttles and SDK retries",
        "Calls failed on throughput; attempts the SDK repeated",
        "ops",
        [
          {
            expr: `sum by (operation) (${rate("cellwallet_dynamodb_throttles_total")})`,
            legend: "throttled {{operation}}",
          },
          {
            expr: `sum by (operation) (${rate("cellwallet_dynamodb_sdk_retries_total")})`,
            legend: "retried {{operation}}",
          },
        ],
        12,
      ),
    ],
  };
}

function runtimeRow(): Row {
  return {
    title: "Runtime",
    panels: [
      timeseries(
        "Event-loop lag p99",
        "Node.js event-loop delay (p99 over the sampling window)",
        "s",
        [{ expr: `max by (az) (nodejs_eventloop_lag_p99_seconds{${SEL}})`, legend: "{{az}}" }],
        8,
      ),
      timeseries(
        "CPU",
        "CPU seconds per second used by each replica",
        "percentunit",
        [{ expr: `sum by (az) (${rate("process_cpu_seconds_total")})`, legend: "{{az}}" }],
        8,
      ),
      timeseries(
        "Memory (RSS)",
        "Resident memory per replica",
        "bytes",
        [{ expr: `max by (az) (process_resident_memory_bytes{${SEL}})`, legend: "{{az}}" }],
        8,
      ),
      table(
        "Build version per AZ",
        "The build each replica runs (CELL_VERSION)",
        [{ expr: `max by (cell, az, version) (cellwallet_build_info{${SEL}})` }],
        12,
      ),
      timeseries(
        "Migration steps served",
        "Steps of user migrations this cell served, by outcome",
        "ops",
        [
          {
            expr: `sum by (step, outcome) (${rate("cellwallet_migration_steps_total")})`,
            legend: "{{step}} {{outcome}}",
          },
        ],
        12,
      ),
    ],
  };
}
