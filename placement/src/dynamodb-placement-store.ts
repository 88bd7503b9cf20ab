import {
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import {
  applyPatch,
  assertMigrationId,
  type CellStateChange,
  type CellStateCondition,
  type CreateMigrationOutcome,
  decodeMigration,
  type FlipOutcome,
  isFinalState,
  type MigrationPatch,
  type MigrationRecord,
  type MigrationState,
  type MigrationStep,
  type NewMigration,
  newMigrationRecord,
  type WalletRelocation,
} from "./migration-records.js";
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
  assertMaxOpsPerSecond,
  assertSource,
  assertUserId,
  encodeEndpoints,
  PlacementContentionError,
  placeableStates,
  placementRefusal,
} from "./placement-rules.js";
import type { CellRecord, CellState, PlacementStore, PlaceUserOutcome, UserPlacement } from "./placement-store.js";
import { type PlacementTableName, placementTableNames, USERS_BY_CELL_INDEX } from "./placement-tables.js";
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

/** Attribute of a placement item naming the migration that holds the user's lock. */
const MIGRATION_LOCK = "migrationLock";

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function migrationToItem(m: MigrationRecord): Item {
  return {
    migrationId: stringValue(m.migrationId),
    userId: stringValue(m.userId),
    step: stringValue(m.step),
    state: stringValue(m.state),
    revision: integerValue(m.revision),
    createdAt: integerValue(m.createdAt),
    body: stringValue(JSON.stringify(m)),
  };
}

function migrationFromItem(item: Item): MigrationRecord {
  const body = item.body?.S;
  if (body === undefined) throw new Error("malformed migration item: no body");
  return decodeMigration(body);
}

/** Optimistic concurrency: the write lands only on the revision it was computed from. */
function putMigrationIfRevision(table: string, next: MigrationRecord, revision: number): TransactWriteItem {
  return {
    Put: {
      TableName: table,
      Item: migrationToItem(next),
      ConditionExpression: "#revision = :revision",
      ExpressionAttributeNames: { "#revision": "revision" },
      ExpressionAttributeValues: { ":revision": integerValue(revision) },
    },
  };
}

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

  async setCellMaxOpsPerSecond(cellId: string, maxOpsPerSecond: number | undefined): Promise<CellRecord | undefined> {
    assertCellId(cellId);
    assertMaxOpsPerSecond(maxOpsPerSecond, cellId);
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tables.cells,
          Key: { cellId: stringValue(cellId) },
          UpdateExpression:
            maxOpsPerSecond === undefined
              ? "SET #updatedAt = :now REMOVE #maxOps"
              : "SET #updatedAt = :now, #maxOps = :maxOps",
          ConditionExpression: "attribute_exists(cellId)",
          ExpressionAttributeNames: { "#updatedAt": "updatedAt", "#maxOps": "maxOpsPerSecond" },
          ExpressionAttributeValues: {
            ":now": integerValue(Date.now()),
            ...(maxOpsPerSecond === undefined ? {} : { ":maxOps": integerValue(maxOpsPerSecond) }),
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return out.Attributes ? cellFromItem(out.Attributes) : undefined;
    } catch (error) {
      if (errorName(error) === "ConditionalCheckFailedException") return undefined;
      throw error;
    }
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

  async listCellUsers(cellId: string): Promise<UserPlacement[]> {
    const users: UserPlacement[] = [];
    let start: Item | undefined;
    do {
      // A GSI is eventually consistent: a drain loops until the cell is empty, so a late entry is picked up.
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.tables.placements,
          IndexName: USERS_BY_CELL_INDEX,
          KeyConditionExpression: "#cellId = :cellId",
          ExpressionAttributeNames: { "#cellId": "cellId" },
          ExpressionAttributeValues: { ":cellId": stringValue(cellId) },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) users.push(placementFromItem(item));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return users;
  }

  async setCellState(cellId: string, to: CellState, condition: CellStateCondition): Promise<CellStateChange> {
    const current = await this.getCell(cellId);
    if (!current) return { ok: false, reason: "unknown-cell" };
    if (current.state === to && !condition.requireEmpty) return { ok: true, cell: current, changed: false };
    const allowed = [...new Set([...condition.from, to])];
    const values: Item = { ":to": stringValue(to), ":now": integerValue(Date.now()) };
    allowed.forEach((state, i) => {
      values[`:s${i}`] = stringValue(state);
    });
    if (condition.requireEmpty) values[":zero"] = integerValue(0);
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tables.cells,
          Key: { cellId: stringValue(cellId) },
          UpdateExpression: "SET #state = :to, #updatedAt = :now",
          ConditionExpression:
            `attribute_exists(cellId) AND #state IN (${allowed.map((_, i) => `:s${i}`).join(", ")})` +
            (condition.requireEmpty ? " AND #users = :zero" : ""),
          ExpressionAttributeNames: {
            "#state": "state",
            "#updatedAt": "updatedAt",
            ...(condition.requireEmpty ? { "#users": "users" } : {}),
          },
          ExpressionAttributeValues: values,
          ReturnValues: "ALL_OLD",
        }),
      );
      const before = out.Attributes ? cellFromItem(out.Attributes) : current;
      const after = await this.getCell(cellId);
      if (!after) throw new Error(`cell ${cellId} vanished`);
      return { ok: true, cell: after, changed: before.state !== to };
    } catch (error) {
      if (errorName(error) !== "ConditionalCheckFailedException") throw error;
      const now = await this.getCell(cellId);
      if (!now) return { ok: false, reason: "unknown-cell" };
      if (!allowed.includes(now.state)) return { ok: false, reason: "wrong-state" };
      return { ok: false, reason: "not-empty" };
    }
  }

  async createMigration(input: NewMigration): Promise<CreateMigrationOutcome> {
    assertMigrationId(input.migrationId);
    assertUserId(input.userId);
    assertCellId(input.sourceCellId);
    assertCellId(input.targetCellId);
    const record = newMigrationRecord(input, Date.now());
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tables.migrations,
                Item: migrationToItem(record),
                ConditionExpression: "attribute_not_exists(migrationId)",
              },
            },
            {
              // The user's migration lock lives on the placement item, so the flip can require it.
              Update: {
                TableName: this.tables.placements,
                Key: { userId: stringValue(input.userId) },
                UpdateExpression: "SET #lock = :id",
                ConditionExpression: "#cellId = :source AND #epoch = :from AND attribute_not_exists(#lock)",
                ExpressionAttributeNames: { "#lock": MIGRATION_LOCK, "#cellId": "cellId", "#epoch": "epoch" },
                ExpressionAttributeValues: {
                  ":id": stringValue(record.migrationId),
                  ":source": stringValue(input.sourceCellId),
                  ":from": integerValue(input.fromEpoch),
                },
              },
            },
          ],
        }),
      );
      return { ok: true, migration: record };
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.length !== 2) throw error;
      if (codes[0] === "ConditionalCheckFailed") {
        const existing = await this.getMigration(record.migrationId);
        return { ok: false, reason: "migration-exists", ...(existing ? { migration: existing } : {}) };
      }
      if (codes[1] === "ConditionalCheckFailed") {
        const active = await this.activeMigration(input.userId);
        return active
          ? { ok: false, reason: "user-migrating", migration: active }
          : { ok: false, reason: "placement-changed" };
      }
      throw error;
    }
  }

  async getMigration(migrationId: string): Promise<MigrationRecord | undefined> {
    const item = await this.getItem("migrations", { migrationId: stringValue(migrationId) });
    return item && migrationFromItem(item);
  }

  async activeMigration(userId: string): Promise<MigrationRecord | undefined> {
    const placement = await this.getItem("placements", { userId: stringValue(userId) });
    const lock = placement?.[MIGRATION_LOCK]?.S;
    if (lock === undefined) return undefined;
    const migration = await this.getMigration(lock);
    if (!migration) throw new Error(`user ${userId} is locked by a missing migration ${lock}`);
    return migration;
  }

  async listMigrations(): Promise<MigrationRecord[]> {
    const out: MigrationRecord[] = [];
    let start: Item | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({ TableName: this.tables.migrations, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) out.push(migrationFromItem(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return out.sort((a, b) => b.createdAt - a.createdAt || (a.migrationId < b.migrationId ? 1 : -1));
  }

  async updateMigration(
    migrationId: string,
    expected: { step: MigrationStep; state: MigrationState },
    patch: MigrationPatch,
  ): Promise<MigrationRecord | undefined> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) await sleep(backoffMs(attempt - 1));
      const current = await this.getMigration(migrationId);
      if (!current || current.step !== expected.step || current.state !== expected.state) return undefined;
      const next = applyPatch(current, patch, Date.now());
      if (current.step !== "flipped" && next.step === "flipped") throw new Error("use flipPlacement to flip");
      const items: TransactWriteItem[] = [putMigrationIfRevision(this.tables.migrations, next, current.revision)];
      if (isFinalState(next.state)) items.push(this.releaseLock(next));
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        return next;
      } catch (error) {
        const codes = cancellationCodes(error);
        // Someone else wrote the record since we read it: read again and re-check the expected step.
        if (codes?.[0] === "ConditionalCheckFailed" || isTransient(error, codes)) continue;
        throw error;
      }
    }
    throw new PlacementContentionError(
      `migration ${migrationId}: still conflicting after ${this.maxAttempts} attempts`,
    );
  }

  private releaseLock(m: MigrationRecord): TransactWriteItem {
    return {
      Update: {
        TableName: this.tables.placements,
        Key: { userId: stringValue(m.userId) },
        UpdateExpression: "REMOVE #lock",
        ConditionExpression: "attribute_exists(userId) AND (attribute_not_exists(#lock) OR #lock = :id)",
        ExpressionAttributeNames: { "#lock": MIGRATION_LOCK },
        ExpressionAttributeValues: { ":id": stringValue(m.migrationId) },
      },
    };
  }

  async flipPlacement(migrationId: string): Promise<FlipOutcome> {
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) await sleep(backoffMs(attempt - 1));
      const m = await this.getMigration(migrationId);
      if (!m) return { ok: false, reason: "step-changed" };
      if (m.step === "flipped" || m.step === "moved") return { ok: true, migration: m };
      if (m.step !== "activated" || m.state !== "running") return { ok: false, reason: "step-changed", migration: m };
      const now = Date.now();
      const next = applyPatch(m, { step: "flipped" }, now);
      const items: TransactWriteItem[] = [
        putMigrationIfRevision(this.tables.migrations, next, m.revision),
        {
          Update: {
            TableName: this.tables.placements,
            Key: { userId: stringValue(m.userId) },
            UpdateExpression: "SET #cellId = :target, #epoch = :to",
            ConditionExpression: "#cellId = :source AND #epoch = :from AND #lock = :id",
            ExpressionAttributeNames: { "#cellId": "cellId", "#epoch": "epoch", "#lock": MIGRATION_LOCK },
            ExpressionAttributeValues: {
              ":target": stringValue(m.targetCellId),
              ":to": integerValue(m.toEpoch),
              ":source": stringValue(m.sourceCellId),
              ":from": integerValue(m.fromEpoch),
              ":id": stringValue(m.migrationId),
            },
          },
        },
        {
          Update: {
            TableName: this.tables.cells,
            Key: { cellId: stringValue(m.sourceCellId) },
            UpdateExpression: "SET #users = #users - :one",
            ConditionExpression: "attribute_exists(cellId) AND #users >= :one",
            ExpressionAttributeNames: { "#users": "users" },
            ExpressionAttributeValues: { ":one": integerValue(1) },
          },
        },
        {
          Update: {
            TableName: this.tables.cells,
            Key: { cellId: stringValue(m.targetCellId) },
            UpdateExpression: "SET #users = #users + :one",
            // A retired cell serves nobody: never flip a user into one (retire races an in-flight move);
            // and capacity binds moves as it binds placements (onboarding may have filled it since the plan).
            ConditionExpression: "attribute_exists(cellId) AND #state <> :retired AND #users < #capacity",
            ExpressionAttributeNames: { "#users": "users", "#state": "state", "#capacity": "capacity" },
            ExpressionAttributeValues: { ":one": integerValue(1), ":retired": stringValue("retired") },
          },
        },
      ];
      if (m.walletId !== null) {
        items.push({
          Put: {
            TableName: this.tables.relocations,
            Item: {
              walletId: stringValue(m.walletId),
              userId: stringValue(m.userId),
              cellId: stringValue(m.targetCellId),
              epoch: integerValue(m.toEpoch),
              movedAt: integerValue(now),
            },
          },
        });
      }
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        return { ok: true, migration: next };
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes?.[0] === "ConditionalCheckFailed" || isTransient(error, codes)) continue;
        if (codes?.[1] === "ConditionalCheckFailed") return { ok: false, reason: "placement-changed", migration: m };
        if (codes?.[3] === "ConditionalCheckFailed") {
          const target = await this.getCell(m.targetCellId);
          const retired = target === undefined || target.state === "retired";
          return { ok: false, reason: retired ? "target-retired" : "target-full", migration: m };
        }
        throw error;
      }
    }
    throw new PlacementContentionError(`flip of ${migrationId}: still conflicting after ${this.maxAttempts} attempts`);
  }

  async getRelocation(walletId: string): Promise<WalletRelocation | undefined> {
    const item = await this.getItem("relocations", { walletId: stringValue(walletId) });
    if (!item) return undefined;
    const num = (name: string) => {
      const value = Number(item[name]?.N);
      if (!Number.isSafeInteger(value)) throw new Error(`malformed relocation of ${walletId}: ${name}`);
      return value;
    };
    const str = (name: string) => {
      const value = item[name]?.S;
      if (value === undefined) throw new Error(`malformed relocation of ${walletId}: ${name}`);
      return value;
    };
    return { walletId, userId: str("userId"), cellId: str("cellId"), epoch: num("epoch"), movedAt: num("movedAt") };
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
