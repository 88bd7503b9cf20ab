import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { LedgerStore } from "../../application/ledger-store.js";
import type { StoreObserver } from "../../application/store-observer.js";

const STORE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Pending transfers counted per scrape at most (the gauge saturates there; the age stays exact). */
export const PENDING_SCAN_LIMIT = 1000;
/** A scrape never waits longer than this for the store (the gauges keep their previous values). */
const SCRAPE_STORE_TIMEOUT_MS = 2000;

export interface ScrapedStoreState {
  store: LedgerStore;
  /** When the process started (epoch ms): the checkpoint age of a cell that never wrote one counts from here. */
  startedAt: number;
  checkpointIntervalMs: number;
  verifyIntervalMs: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("store too slow for a scrape")), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The metrics the dashboards and alerts need beyond RED: store timings (SQLite group commits and fsync,
 * DynamoDB calls, throttles, contention), refusals by problem code, and state read from the store at each
 * scrape (pending cross-cell transfers, checkpoint age). Hot-path cost: one observe or increment per event.
 */
export class OperationalMetrics {
  readonly sqliteTransaction: Histogram;
  readonly sqliteCommit: Histogram;
  readonly sqliteBatch: Histogram;
  readonly dynamoDbCalls: Histogram<"operation">;
  readonly dynamoDbSdkRetries: Counter<"operation">;
  readonly dynamoDbThrottles: Counter<"operation">;
  readonly contentionRetries: Counter;
  /** Requests answered 503 because conflicts outlasted the retry budget (or SQLite's busy timeout). */
  readonly contentionErrors: Counter;
  /** Refused operations by the problem code answered (insufficient-funds, wallet-not-active…). */
  readonly refusals: Counter<"type" | "code">;
  private scraped: ScrapedStoreState | undefined;

  constructor(registry: Registry) {
    const registers = [registry];
    this.sqliteTransaction = new Histogram({
      name: "cellwallet_sqlite_transaction_duration_seconds",
      help: "One SQLite group commit from BEGIN IMMEDIATE to the end of COMMIT",
      buckets: STORE_BUCKETS,
      registers,
    });
    this.sqliteCommit = new Histogram({
      name: "cellwallet_sqlite_commit_duration_seconds",
      help: "The COMMIT statement of a group commit alone: WAL write and fsync",
      buckets: STORE_BUCKETS,
      registers,
    });
    this.sqliteBatch = new Histogram({
      name: "cellwallet_sqlite_commit_operations",
      help: "Operations sharing one SQLite group commit (one fsync)",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.dynamoDbCalls = new Histogram({
      name: "cellwallet_dynamodb_call_duration_seconds",
      help: "DynamoDB calls of the ledger store by operation, the SDK's retries included",
      labelNames: ["operation"],
      buckets: STORE_BUCKETS,
      registers,
    });
    this.dynamoDbSdkRetries = new Counter({
      name: "cellwallet_dynamodb_sdk_retries_total",
      help: "Attempts the AWS SDK repeated (throttling, 5xx, network) by operation",
      labelNames: ["operation"],
      registers,
    });
    this.dynamoDbThrottles = new Counter({
      name: "cellwallet_dynamodb_throttles_total",
      help: "DynamoDB calls that failed on throughput after the SDK's retries, by operation",
      labelNames: ["operation"],
      registers,
    });
    this.contentionRetries = new Counter({
      name: "cellwallet_store_contention_retries_total",
      help: "Commits re-read and re-decided after a write conflict",
      registers,
    });
    this.contentionErrors = new Counter({
      name: "cellwallet_store_contention_errors_total",
      help: "Requests answered 503 because write conflicts or the write lock outlasted the retry budget",
      registers,
    });
    this.refusals = new Counter({
      name: "cellwallet_wallet_refusals_total",
      help: "Refused wallet operations by type and problem code",
      labelNames: ["type", "code"],
      registers,
    });
    this.registerStoreGauges(registers);
    this.registerIntervalGauges(registers);
  }

  /**
   * State read from the store at each scrape: pending cross-cell transfers and the checkpoint age. One store
   * read per scrape, shared by the three gauges (the registry collects them concurrently), bounded in time.
   */
  private registerStoreGauges(registers: Registry[]): void {
    let pendingCount: Gauge | undefined;
    let pendingAge: Gauge | undefined;
    let checkpointAge: Gauge | undefined;
    const refresh = async () => {
      const state = this.scraped;
      if (!state || !pendingCount || !pendingAge || !checkpointAge) return;
      const now = Date.now();
      try {
        const pending = await withTimeout(
          state.store.listPendingTransfers(now, PENDING_SCAN_LIMIT),
          SCRAPE_STORE_TIMEOUT_MS,
        );
        pendingCount.set(pending.length);
        const oldest = pending.reduce((min, t) => Math.min(min, t.createdAt), now);
        pendingAge.set((now - oldest) / 1000);
        const latest = await withTimeout(state.store.latestCheckpoint(), SCRAPE_STORE_TIMEOUT_MS);
        checkpointAge.set((now - (latest?.createdAt ?? state.startedAt)) / 1000);
      } catch {
        // The store is slow or down: readiness and the request metrics say so; keep the last values.
      }
    };
    let reading: Promise<void> | undefined;
    const collect = () => {
      reading ??= refresh().finally(() => {
        reading = undefined;
      });
      return reading;
    };
    pendingCount = new Gauge({
      name: "cellwallet_cross_cell_transfers_pending",
      help: `Outgoing cross-cell transfers still PENDING (counted up to ${PENDING_SCAN_LIMIT})`,
      registers,
      collect,
    });
    pendingAge = new Gauge({
      name: "cellwallet_cross_cell_transfer_oldest_pending_age_seconds",
      help: "Age of the oldest outgoing cross-cell transfer still PENDING (0 when none)",
      registers,
      collect,
    });
    checkpointAge = new Gauge({
      name: "cellwallet_checkpoint_age_seconds",
      help: "Age of the cell's latest signed checkpoint (since the process started when there is none)",
      registers,
      collect,
    });
  }

  /** The configured checkpoint and verification intervals, for the alerts that compare ages against them. */
  private registerIntervalGauges(registers: Registry[]): void {
    // Inside collect(), `this` is the gauge: the metrics object is captured here.
    const self = this;
    new Gauge({
      name: "cellwallet_checkpoint_interval_seconds",
      help: "CHECKPOINT_INTERVAL_MS in seconds (0: checkpoints disabled)",
      registers,
      collect() {
        this.set((self.scraped?.checkpointIntervalMs ?? 0) / 1000);
      },
    });
    new Gauge({
      name: "cellwallet_verification_interval_seconds",
      help: "VERIFY_INTERVAL_MS in seconds (0: periodic verification disabled)",
      registers,
      collect() {
        this.set((self.scraped?.verifyIntervalMs ?? 0) / 1000);
      },
    });
  }

  /** Lets the scrape read pending transfers and the latest checkpoint from the store. */
  scrapeFrom(state: ScrapedStoreState): void {
    this.scraped = state;
  }

  storeObserver(): StoreObserver {
    return {
      sqliteCommit: (transaction, commit, operations) => {
        this.sqliteTransaction.observe(transaction);
        this.sqliteCommit.observe(commit);
        this.sqliteBatch.observe(operations);
      },
      dynamoDbCall: (operation, seconds, sdkRetries, throttled) => {
        this.dynamoDbCalls.observe({ operation }, seconds);
        // Added even when 0: both series exist from an operation's first call, so rate() and the dashboard see
        // the first retry or throttle (a series born at 1 has no increase to show).
        this.dynamoDbSdkRetries.inc({ operation }, sdkRetries);
        this.dynamoDbThrottles.inc({ operation }, throttled ? 1 : 0);
      },
      contentionRetry: () => this.contentionRetries.inc(),
    };
  }
}
