import type { ConsumedCapacity, DynamoDBClient, QueryCommandInput } from "@aws-sdk/client-dynamodb";
import { GetItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { isThrottling } from "@cellwallet/store-support/dynamodb";
import type { StoreObserver } from "../../application/store-observer.js";
import type { Transfer } from "../../domain/transfer.js";
import { type Item, transferFromItem, transferKey } from "./item-codec.js";
import type { CellTableName } from "./table-definitions.js";

/**
 * What every part of the DynamoDB ledger store shares: one client, the cell's table names, the retry budget and
 * the metrics hooks (the observer is set once the cell is wired, after the parts exist).
 */
export interface DynamoDbHandle {
  readonly client: DynamoDBClient;
  readonly tables: Record<CellTableName, string>;
  readonly maxAttempts: number;
  readonly onCall: ((operation: string, capacityUnits: number) => void) | undefined;
  observer: StoreObserver | undefined;
}

export const BACKOFF_BASE_MS = 10;
export const BACKOFF_CAP_MS = 250;
export const STREAM_PAGE_SIZE = 500;

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full jitter: contenders spread out instead of colliding again in lockstep. */
export function backoffMs(retry: number): number {
  return Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (retry - 1));
}

function capacityOf(consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): number {
  const list = consumed === undefined ? [] : Array.isArray(consumed) ? consumed : [consumed];
  return list.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
}

/** Attempts the SDK made beyond the first (throttling, 5xx and network errors are retried by the SDK). */
function sdkRetriesOf(outcome: unknown): number {
  const attempts = (outcome as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts;
  return attempts !== undefined && attempts > 1 ? attempts - 1 : 0;
}

/** The base of each role's part: the shared handle and the measured calls every part makes. */
export abstract class DynamoDbPart {
  constructor(protected readonly handle: DynamoDbHandle) {}

  protected get client(): DynamoDBClient {
    return this.handle.client;
  }

  protected get tables(): Record<CellTableName, string> {
    return this.handle.tables;
  }

  protected get maxAttempts(): number {
    return this.handle.maxAttempts;
  }

  protected get observer(): StoreObserver | undefined {
    return this.handle.observer;
  }

  protected get onCall(): ((operation: string, capacityUnits: number) => void) | undefined {
    return this.handle.onCall;
  }

  async getTransfer(transferId: string): Promise<Transfer | undefined> {
    const item = await this.getItem("transfers", transferKey(transferId));
    return item && transferFromItem(item);
  }

  protected async getItem(table: CellTableName, key: Item): Promise<Item | undefined> {
    const out = await this.measured("GetItem", () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tables[table],
          Key: key,
          ConsistentRead: true,
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
    return out.Item;
  }

  protected async query(input: Omit<QueryCommandInput, "TableName" | "ConsistentRead" | "ReturnConsumedCapacity">) {
    return this.measured("Query", () =>
      this.client.send(
        new QueryCommand({
          ...input,
          TableName: this.tables.entries,
          ConsistentRead: true,
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
  }

  /** Every DynamoDB call of the store: timed for metrics (traced by the AWS SDK's instrumentation when on). */
  protected async measured<O extends object>(operation: string, call: () => Promise<O>): Promise<O> {
    let out: O;
    const started = performance.now();
    try {
      out = await call();
    } catch (error) {
      this.observer?.dynamoDbCall?.(
        operation,
        (performance.now() - started) / 1000,
        sdkRetriesOf(error),
        isThrottling(error),
      );
      this.report(operation, 0);
      throw error;
    }
    this.observer?.dynamoDbCall?.(operation, (performance.now() - started) / 1000, sdkRetriesOf(out), false);
    this.report(
      operation,
      capacityOf((out as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity),
    );
    return out;
  }

  protected report(operation: string, capacityUnits: number): void {
    try {
      this.onCall?.(operation, capacityUnits);
    } catch {
      // Metrics must never turn a committed write into a reported failure.
    }
  }

  /** Runs a conditional write: false when its condition did not hold. */
  protected async conditional(operation: string, call: () => Promise<object>): Promise<boolean> {
    try {
      await this.measured(operation, call);
      return true;
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (name === "ConditionalCheckFailedException" || name === "TransactionCanceledException") return false;
      throw error;
    }
  }
}
