import {
  DescribeTableCommand,
  ScanCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { cancellationCodes, isTransient } from "@cellwallet/store-support/dynamodb";
import { backoffMs, MIGRATION_LOCK, sleep } from "./dynamodb-placement-base.js";
import { DynamoDbPlacementRegistry } from "./dynamodb-placement-registry.js";
import {
  applyPatch,
  assertMigrationId,
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
import { type Item, integerValue, stringValue } from "./placement-item-codec.js";
import { assertCellId, assertUserId, PlacementContentionError } from "./placement-rules.js";
import type { PlacementStore } from "./placement-store.js";

export type { DynamoDbPlacementStoreOptions } from "./dynamodb-placement-base.js";

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

/**
 * PlacementStore on DynamoDB: the registry (cells, placements, overrides; dynamodb-placement-registry.ts) and,
 * here, user migrations and wallet relocations, each step a conditional write; the flip moves the placement, both
 * cells' user counts and the relocation in one transaction. Every read is strongly consistent.
 */
export class DynamoDbPlacementStore extends DynamoDbPlacementRegistry implements PlacementStore {
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
