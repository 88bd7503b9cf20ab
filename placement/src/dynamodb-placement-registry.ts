import {
  DeleteItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { cancellationCodes, errorName, isTransient } from "@cellwallet/store-support/dynamodb";
import { backoffMs, CELL_ITEM, DynamoDbPlacementBase, PLACEMENT_ITEM, sleep } from "./dynamodb-placement-base.js";
import type { CellStateChange, CellStateCondition } from "./migration-records.js";
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
import type { CellRecord, CellState, PlaceUserOutcome, UserPlacement } from "./placement-store.js";
import { USERS_BY_CELL_INDEX } from "./placement-tables.js";

/**
 * The registry on DynamoDB: cells, placements and overrides. A placement and its cell's user count change in
 * one TransactWriteItems whose conditions carry every rule (user unplaced, cell placeable, room left), so no
 * read-then-write race can overfill a cell or place a user twice. Every read is strongly consistent.
 */
export abstract class DynamoDbPlacementRegistry extends DynamoDbPlacementBase {
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
}
