import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { createDynamoDbClient } from "@cellwallet/store-support/dynamodb";
import { cellFromItem, type Item, stringValue } from "./placement-item-codec.js";
import type { CellRecord } from "./placement-store.js";
import { type PlacementTableName, placementTableNames } from "./placement-tables.js";

export interface DynamoDbPlacementStoreOptions {
  /** Tables are `${tablePrefix}-control-cells`, `-user-placements`, `-overrides`; default "cellwallet". */
  tablePrefix?: string;
  /** A caller-owned client (not destroyed by close()); otherwise one is created from endpoint/region. */
  client?: DynamoDBClient;
  /** Local emulators (moto, DynamoDB Local); absent in AWS. */
  endpoint?: string;
  region?: string;
  /** Transaction attempts of one placeUser through conflicts and throttling before PlacementContentionError. */
  maxAttempts?: number;
}

const DEFAULT_MAX_ATTEMPTS = 8;
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 250;

// Positions of the two items in placeUser's transaction (cancellation reasons are positional).
export const PLACEMENT_ITEM = 0;
export const CELL_ITEM = 1;

/** Attribute of a placement item naming the migration that holds the user's lock. */
export const MIGRATION_LOCK = "migrationLock";

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full jitter: contenders spread out instead of colliding again in lockstep. */
export const backoffMs = (retry: number) =>
  Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (retry - 1));

/** What the registry and the migration records share: one client, the table names and the retry budget. */
export abstract class DynamoDbPlacementBase {
  protected readonly client: DynamoDBClient;
  protected readonly ownsClient: boolean;
  protected readonly tables: Record<PlacementTableName, string>;
  protected readonly maxAttempts: number;
  protected closed = false;

  constructor(options: DynamoDbPlacementStoreOptions = {}) {
    this.tables = placementTableNames(options.tablePrefix);
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`maxAttempts must be >= 1: ${maxAttempts}`);
    this.maxAttempts = maxAttempts;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? createDynamoDbClient(options);
  }

  async getCell(cellId: string): Promise<CellRecord | undefined> {
    const item = await this.getItem("cells", { cellId: stringValue(cellId) });
    return item && cellFromItem(item);
  }

  protected async getItem(table: PlacementTableName, key: Item): Promise<Item | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tables[table], Key: key, ConsistentRead: true }),
    );
    return out.Item;
  }
}
