import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { cancellationCodes, ensureTable } from "@cellwallet/store-support/dynamodb";
import { isTerminal, type Rollout } from "./rollout-state.js";
import type { CreateOutcome, RolloutStore, SaveOutcome } from "./rollout-store.js";
import { ACTIVE_ROLLOUT_KEY, ROLLOUT_TABLE, rolloutTableName } from "./rollout-table.js";

type Item = Record<string, AttributeValue>;

const toItem = (r: Rollout): Item => ({
  rolloutId: { S: r.rolloutId },
  revision: { N: String(r.revision) },
  createdAt: { S: r.createdAt },
  doc: { S: JSON.stringify(r) },
});

const fromItem = (item: Item | undefined): Rollout | undefined =>
  item?.doc?.S ? (JSON.parse(item.doc.S) as Rollout) : undefined;

const conditionFailed = (error: unknown) => error instanceof Error && error.name === "ConditionalCheckFailedException";

/**
 * RolloutStore on DynamoDB: each write is conditional on the stored revision;
 * an `#active` item names the one active rollout, created and released in the
 * same transactions as the rollout it names. Reads are strongly consistent.
 */
export class DynamoDbRolloutStore implements RolloutStore {
  private readonly table: string;

  constructor(
    private readonly client: DynamoDBClient,
    tablePrefix?: string,
    private readonly ownsClient = false,
  ) {
    this.table = rolloutTableName(tablePrefix);
  }

  async create(rollout: Rollout): Promise<CreateOutcome> {
    const stored = { ...rollout, revision: 1 };
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { rolloutId: { S: ACTIVE_ROLLOUT_KEY }, activeId: { S: stored.rolloutId } },
                ConditionExpression: "attribute_not_exists(rolloutId)",
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: toItem(stored),
                ConditionExpression: "attribute_not_exists(rolloutId)",
              },
            },
          ],
        }),
      );
      return { ok: true, rollout: stored };
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.[0] === "ConditionalCheckFailed") {
        const active = await this.client.send(
          new GetItemCommand({
            TableName: this.table,
            Key: { rolloutId: { S: ACTIVE_ROLLOUT_KEY } },
            ConsistentRead: true,
          }),
        );
        return { ok: false, activeRolloutId: active.Item?.activeId?.S ?? "(unknown)" };
      }
      throw error;
    }
  }

  async save(rollout: Rollout): Promise<SaveOutcome> {
    const stored = { ...rollout, revision: rollout.revision + 1 };
    const put = {
      TableName: this.table,
      Item: toItem(stored),
      ConditionExpression: "revision = :expected",
      ExpressionAttributeValues: { ":expected": { N: String(rollout.revision) } },
    };
    if (!isTerminal(stored)) {
      try {
        await this.client.send(new PutItemCommand(put));
        return { ok: true, rollout: stored };
      } catch (error) {
        if (conditionFailed(error)) return { ok: false, conflict: true };
        throw error;
      }
    }
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: put },
            {
              Delete: {
                TableName: this.table,
                Key: { rolloutId: { S: ACTIVE_ROLLOUT_KEY } },
                ConditionExpression: "activeId = :id",
                ExpressionAttributeValues: { ":id": { S: stored.rolloutId } },
              },
            },
          ],
        }),
      );
      return { ok: true, rollout: stored };
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.[0] === "ConditionalCheckFailed") return { ok: false, conflict: true };
      if (codes?.[1] === "ConditionalCheckFailed") {
        // The active slot names another rollout (or none): this one no longer holds it; just write.
        try {
          await this.client.send(new PutItemCommand(put));
          return { ok: true, rollout: stored };
        } catch (inner) {
          if (conditionFailed(inner)) return { ok: false, conflict: true };
          throw inner;
        }
      }
      throw error;
    }
  }

  async get(rolloutId: string): Promise<Rollout | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: { rolloutId: { S: rolloutId } }, ConsistentRead: true }),
    );
    return fromItem(out.Item as Item | undefined);
  }

  async active(): Promise<Rollout | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { rolloutId: { S: ACTIVE_ROLLOUT_KEY } },
        ConsistentRead: true,
      }),
    );
    const id = out.Item?.activeId?.S;
    return id ? this.get(id) : undefined;
  }

  /** A scan: rollouts are few (one per deployment), and this serves `rollout status` only. */
  async list(limit: number): Promise<Rollout[]> {
    const all: Rollout[] = [];
    let start: Record<string, never> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({ TableName: this.table, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) {
        const r = fromItem(item as Item);
        if (r) all.push(r);
      }
      start = page.LastEvaluatedKey as Record<string, never> | undefined;
    } while (start);
    return all
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.rolloutId.localeCompare(a.rolloutId))
      .slice(0, limit);
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }
}

/** Creates the rollouts table when missing (local development and tests; in AWS the stacks own it). */
export async function ensureRolloutTable(client: DynamoDBClient, prefix?: string): Promise<void> {
  await ensureTable(client, rolloutTableName(prefix), ROLLOUT_TABLE);
}
