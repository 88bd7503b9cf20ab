import {
  type DynamoDBClient,
  GetItemCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { placementTableNames } from "@cellwallet/placement";
import type Database from "better-sqlite3";
import { openSqliteFile } from "../sqlite-file.js";
import { nextOperatorRecord, type OperatorActionInput, type OperatorRecord } from "./operator-log.js";

/** Where operator actions are kept: append-only, one chain for the platform. Two adapters. */
export interface OperatorLogStore {
  /** Appends the next record of the chain (serialised across processes); returns it. */
  append(input: OperatorActionInput): Promise<OperatorRecord>;
  /** Every record, ascending. */
  stream(): AsyncIterable<OperatorRecord>;
  close(): Promise<void>;
}

function parseRecord(text: string): OperatorRecord {
  const r = JSON.parse(text) as OperatorRecord;
  if (!Number.isSafeInteger(r.sequence) || typeof r.hash !== "string" || typeof r.prevHash !== "string") {
    throw new Error("malformed operator audit record");
  }
  return r;
}

const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS operator_audit (
  sequence INTEGER PRIMARY KEY CHECK (sequence >= 1),
  body     TEXT NOT NULL
) STRICT;
CREATE TRIGGER IF NOT EXISTS operator_audit_append_only_update BEFORE UPDATE ON operator_audit
BEGIN SELECT RAISE(ABORT, 'the operator audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS operator_audit_append_only_delete BEFORE DELETE ON operator_audit
BEGIN SELECT RAISE(ABORT, 'the operator audit trail is append-only'); END;
`;

/** In the placement registry's SQLite file (shared by routers and cellctl); BEGIN IMMEDIATE serialises appends. */
export class SqliteOperatorLogStore implements OperatorLogStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = openSqliteFile(path);
    this.db.exec(SQLITE_SCHEMA);
  }

  async append(input: OperatorActionInput): Promise<OperatorRecord> {
    return this.db
      .transaction(() => {
        const row = this.db.prepare("SELECT body FROM operator_audit ORDER BY sequence DESC LIMIT 1").get() as
          | { body: string }
          | undefined;
        const record = nextOperatorRecord(row ? parseRecord(row.body) : undefined, input, Date.now());
        this.db
          .prepare("INSERT INTO operator_audit (sequence, body) VALUES (?, ?)")
          .run(record.sequence, JSON.stringify(record));
        return record;
      })
      .immediate();
  }

  async *stream(): AsyncIterable<OperatorRecord> {
    let after = 0;
    for (;;) {
      const rows = this.db
        .prepare("SELECT body FROM operator_audit WHERE sequence > ? ORDER BY sequence LIMIT 500")
        .all(after) as { body: string }[];
      if (rows.length === 0) return;
      for (const row of rows) {
        const record = parseRecord(row.body);
        after = record.sequence;
        yield record;
      }
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

const recordKey = (sequence: number) => `record#${String(sequence).padStart(12, "0")}`;

/**
 * On DynamoDB: `record#<seq>` items plus a `head` item naming the last record.
 * An append is one transaction: the new record (must not exist) and the head
 * (must still name the record it was built on), retried on a lost race.
 */
export class DynamoDbOperatorLogStore implements OperatorLogStore {
  private readonly table: string;

  constructor(
    private readonly client: DynamoDBClient,
    tablePrefix?: string,
    private readonly ownsClient = false,
  ) {
    this.table = placementTableNames(tablePrefix).operatorAudit;
  }

  private async get(key: string) {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: { recordKey: { S: key } }, ConsistentRead: true }),
    );
    return out.Item;
  }

  async append(input: OperatorActionInput): Promise<OperatorRecord> {
    for (let attempt = 1; attempt <= 20; attempt++) {
      const head = await this.get("head");
      const last = head ? Number(head.sequence?.N) : 0;
      const previousItem = last > 0 ? await this.get(recordKey(last)) : undefined;
      const previous = previousItem?.body?.S ? parseRecord(previousItem.body.S) : undefined;
      if (last > 0 && !previous) throw new Error(`operator audit head names a missing record ${last}`);
      const record = nextOperatorRecord(previous, input, Date.now());
      const items: TransactWriteItem[] = [
        {
          Put: {
            TableName: this.table,
            Item: { recordKey: { S: recordKey(record.sequence) }, body: { S: JSON.stringify(record) } },
            ConditionExpression: "attribute_not_exists(recordKey)",
          },
        },
        {
          Put: {
            TableName: this.table,
            Item: { recordKey: { S: "head" }, sequence: { N: String(record.sequence) }, hash: { S: record.hash } },
            ...(last === 0
              ? { ConditionExpression: "attribute_not_exists(recordKey)" }
              : {
                  ConditionExpression: "#s = :last",
                  ExpressionAttributeNames: { "#s": "sequence" },
                  ExpressionAttributeValues: { ":last": { N: String(last) } },
                }),
          },
        },
      ];
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: items }));
        return record;
      } catch (error) {
        if (!(error instanceof Error) || error.name !== "TransactionCanceledException") throw error;
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 10 * 2 ** attempt)));
      }
    }
    throw new Error("the operator audit trail is too contended; retry");
  }

  async *stream(): AsyncIterable<OperatorRecord> {
    const head = await this.get("head");
    const last = head ? Number(head.sequence?.N) : 0;
    for (let sequence = 1; sequence <= last; sequence++) {
      const item = await this.get(recordKey(sequence));
      // A missing record is yielded as a gap: the verifier reports it at its sequence.
      if (item?.body?.S) yield parseRecord(item.body.S);
    }
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }
}
