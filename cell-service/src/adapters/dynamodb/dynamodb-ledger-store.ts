import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createDynamoDbClient } from "@cellwallet/store-support/dynamodb";
import { ComposedLedgerStore } from "../../application/composed-ledger-store.js";
import type { LedgerStore } from "../../application/ledger-store.js";
import type { StoreObserver } from "../../application/store-observer.js";
import { DynamoDbAuditStore } from "./dynamodb-audit-store.js";
import { type DynamoDbHandle, DynamoDbPart } from "./dynamodb-handle.js";
import { DynamoDbMigrationStore } from "./dynamodb-migration-store.js";
import { DynamoDbMoneyPathStore } from "./dynamodb-money-path-store.js";
import { cellTableNames } from "./table-definitions.js";

export { createDynamoDbClient } from "@cellwallet/store-support/dynamodb";

export interface DynamoDbLedgerStoreOptions {
  cellId: string;
  tablePrefix?: string;
  /** A caller-owned client (not destroyed by close()); otherwise one is created from endpoint/region. */
  client?: DynamoDBClient;
  /** Local emulators (moto, DynamoDB Local); absent in AWS. */
  endpoint?: string;
  region?: string;
  /** Read-decide-write attempts of one commit before ContentionError. */
  maxAttempts?: number;
  /** Every DynamoDB call, with the capacity units it consumed (0 when unreported or failed). */
  onCall?: (operation: string, capacityUnits: number) => void;
}

const DEFAULT_MAX_ATTEMPTS = 12;

/** Readiness and shutdown over the shared client. */
class DynamoDbLifecycle extends DynamoDbPart {
  constructor(
    handle: DynamoDbHandle,
    private readonly ownsClient: boolean,
  ) {
    super(handle);
  }

  private closed = false;

  async ping(): Promise<void> {
    await this.measured("DescribeTable", () =>
      this.client.send(new DescribeTableCommand({ TableName: this.tables.wallets })),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
  }
}

/**
 * The cell's store on DynamoDB: one part per role port (money path, audit, migration) over one client and one
 * set of tables, composed here for wiring.
 */
export class DynamoDbLedgerStore extends ComposedLedgerStore {
  readonly moneyPath: DynamoDbMoneyPathStore;
  readonly audit: DynamoDbAuditStore;
  readonly migration: DynamoDbMigrationStore;
  private readonly handle: DynamoDbHandle;
  private readonly lifecycle: DynamoDbLifecycle;

  constructor(options: DynamoDbLedgerStoreOptions) {
    super();
    const tables = cellTableNames(options.cellId, options.tablePrefix);
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`maxAttempts must be >= 1: ${maxAttempts}`);
    const client = options.client ?? createDynamoDbClient(options);
    this.handle = { client, tables, maxAttempts, onCall: options.onCall, observer: undefined };
    this.moneyPath = new DynamoDbMoneyPathStore(this.handle);
    this.audit = new DynamoDbAuditStore(this.handle);
    this.migration = new DynamoDbMigrationStore(this.handle);
    this.lifecycle = new DynamoDbLifecycle(this.handle, options.client === undefined);
  }

  observe(observer: StoreObserver): void {
    this.handle.observer = observer;
  }

  ping(): Promise<void> {
    return this.lifecycle.ping();
  }

  close(): Promise<void> {
    return this.lifecycle.close();
  }
}

export function createDynamoDbLedgerStore(options: DynamoDbLedgerStoreOptions): LedgerStore {
  return new DynamoDbLedgerStore(options);
}
