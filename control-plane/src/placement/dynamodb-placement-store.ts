import {
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  cellFromItem,
  type Item,
  integerValue,
  overrideCellFromItem,
  overrideToItem,
  placementFromItem,
  placementToItem,
  stringValue,
} from "./placement-item-codec.js";
import {
  assertCellId,
  assertCellInput,
  assertSource,
  assertUserId,
  encodeEndpoints,
  PlacementContentionError,
  placeableStates,
  placementRefusal,
} from "./placement-rules.js";
import type { CellRecord, PlacementStore, PlaceUserOutcome, UserPlacement } from "./placement-store.js";
import { type PlacementTableName, placementTableNames } from "./placement-tables.js";
import { cancellationCodes, isTransient } from "./transaction-failures.js";

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
const PLACEMENT_ITEM = 0;
const CELL_ITEM = 1;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full jitter: contenders spread out instead of colliding again in lockstep. */
const backoffMs = (retry: number) => Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (retry - 1));

function createClient(options: { endpoint?: string; region?: string }): DynamoDBClient {
  const config: DynamoDBClientConfig = { requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 } };
  if (options.endpoint !== undefined) {
    config.endpoint = options.endpoint;
    config.region = options.region ?? process.env.AWS_REGION ?? "us-east-1";
    // Emulators accept any credentials; real AWS never gets here (no endpoint).
    if (!process.env.AWS_ACCESS_KEY_ID || !process.env.AWS_SECRET_ACCESS_KEY) {
      config.credentials = { accessKeyId: "test", secretAccessKey: "test" };
    }
  } else if (options.region !== undefined) {
    config.region = options.region;
  }
  return new DynamoDBClient(config);
}

/**
 * PlacementStore on DynamoDB. A placement and its cell's user count change in
 * one TransactWriteItems whose conditions carry every rule (user unplaced, cell
 * placeable, room left), so no read-then-write race can overfill a cell or
 * place a user twice. Every read is strongly consistent.
 */
export class DynamoDbPlacementStore implements PlacementStore {
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly tables: Record<PlacementTableName, string>;
  private readonly maxAttempts: number;
  private closed = false;

  constructor(options: DynamoDbPlacementStoreOptions = {}) {
    this.tables = placementTableNames(options.tablePrefix);
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error(`maxAttempts must be >= 1: ${maxAttempts}`);
    this.maxAttempts = maxAttempts;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? createClient(options);
  }

  async listCells(): Promise<CellRecord[]> {
    const cells: CellRecord[] = [];
    let start: Item | undefined;
    do {
      const out = await this.client.send(
        new ScanCommand({ TableName: this.tables.cells, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of out.Items ?? []) cells.push(cellFromItem(item));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    // Same order as the SQLite adapter, so callers never depend on scan order.
    return cells.sort((a, b) => (a.cellId < b.cellId ? -1 : a.cellId > b.cellId ? 1 : 0));
  }

  async getCell(cellId: string): Promise<CellRecord | undefined> {
    const item = await this.getItem("cells", { cellId: stringValue(cellId) });
    return item && cellFromItem(item);
  }

  async putCell(cell: Omit<CellRecord, "users" | "updatedAt">): Promise<CellRecord> {
    assertCellInput(cell);
    // One UpdateItem: `users` starts at 0 for a new cell and is otherwise left to placeUser's atomic increments.
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tables.cells,
        Key: { cellId: stringValue(cell.cellId) },
        UpdateExpression:
          "SET #state = :state, #capacity = :capacity, #endpoints = :endpoints, #updatedAt = :now, #users = if_not_exists(#users, :zero)",
        ExpressionAttributeNames: {
          "#state": "state",
          "#capacity": "capacity",
          "#endpoints": "endpoints",
          "#updatedAt": "updatedAt",
          "#users": "users",
        },
        ExpressionAttributeValues: {
          ":state": stringValue(cell.state),
          ":capacity": integerValue(cell.capacity),
          ":endpoints": stringValue(encodeEndpoints(cell.endpoints)),
          ":now": integerValue(Date.now()),
          ":zero": integerValue(0),
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    if (!out.Attributes) throw new Error(`UpdateItem returned no attributes for cell ${cell.cellId}`);
    return cellFromItem(out.Attributes);
  }

  async getUserPlacement(userId: string): Promise<UserPlacement | undefined> {
    const item = await this.getItem("placements", { userId: stringValue(userId) });
    return item && placementFromItem(item);
  }

  async placeUser(userId: string, cellId: string, source: UserPlacement["source"]): Promise<PlaceUserOutcome> {
    assertUserId(userId);
    assertCellId(cellId);
    assertSource(source);
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) await sleep(backoffMs(attempt - 1));
      const outcome = await this.attemptPlace(userId, cellId, source);
      if (outcome !== undefined) return outcome;
    }
    throw new PlacementContentionError(
      `placing ${userId} in ${cellId}: still conflicting after ${this.maxAttempts} attempts`,
    );
  }

  /** One transaction; undefined when it lost a transient race and should be tried again. */
  private async attemptPlace(
    userId: string,
    cellId: string,
    source: UserPlacement["source"],
  ): Promise<PlaceUserOutcome | undefined> {
    const placement: UserPlacement = { userId, cellId, epoch: 1, placedAt: Date.now(), source };
    const states = placeableStates(source);
    const stateValues: Item = {};
    states.forEach((state, i) => {
      stateValues[`:s${i}`] = stringValue(state);
    });
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tables.placements,
                Item: placementToItem(placement),
                ConditionExpression: "attribute_not_exists(userId)",
              },
            },
            {
              Update: {
                TableName: this.tables.cells,
                Key: { cellId: stringValue(cellId) },
                UpdateExpression: "SET #users = #users + :one",
                ConditionExpression: `attribute_exists(cellId) AND #users < #capacity AND #state IN (${Object.keys(stateValues).join(", ")})`,
                ExpressionAttributeNames: { "#users": "users", "#capacity": "capacity", "#state": "state" },
                ExpressionAttributeValues: { ":one": integerValue(1), ...stateValues },
              },
            },
          ],
        }),
      );
      return { ok: true, placement, created: true };
    } catch (error) {
      const codes = cancellationCodes(error);
      // Without one code per item the positions cannot be trusted to name the failing item.
      if (codes?.length === 2) {
        // The first writer wins, even when the cell has filled up since.
        if (codes[PLACEMENT_ITEM] === "ConditionalCheckFailed") {
          const existing = await this.getUserPlacement(userId);
          return existing && { ok: true, placement: existing, created: false };
        }
        if (codes[CELL_ITEM] === "ConditionalCheckFailed") {
          const refusal = placementRefusal(await this.getCell(cellId), source);
          // No refusal now: the cell changed back (capacity raised, state restored) in between; try again.
          return refusal && { ok: false, reason: refusal };
        }
      }
      if (isTransient(error, codes)) return undefined;
      throw error;
    }
  }

  async getOverride(userId: string): Promise<string | undefined> {
    const item = await this.getItem("overrides", { userId: stringValue(userId) });
    return item && overrideCellFromItem(item);
  }

  async setOverride(userId: string, cellId: string): Promise<void> {
    assertUserId(userId);
    assertCellId(cellId);
    await this.client.send(
      new PutItemCommand({ TableName: this.tables.overrides, Item: overrideToItem(userId, cellId, Date.now()) }),
    );
  }

  async removeOverride(userId: string): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({ TableName: this.tables.overrides, Key: { userId: stringValue(userId) } }),
    );
  }

  private async getItem(table: PlacementTableName, key: Item): Promise<Item | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tables[table], Key: key, ConsistentRead: true }),
    );
    return out.Item;
  }

  async ping(): Promise<void> {
    await this.client.send(new DescribeTableCommand({ TableName: this.tables.cells }));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
  }
}
