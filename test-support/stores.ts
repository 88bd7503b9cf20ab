import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createDynamoDbLedgerStore } from "../cell-service/src/adapters/dynamodb/dynamodb-ledger-store.js";
import { ensureCellTables } from "../cell-service/src/adapters/dynamodb/ensure-tables.js";
import { SqliteLedgerStore } from "../cell-service/src/adapters/sqlite/sqlite-ledger-store.js";
import type { LedgerStore } from "../cell-service/src/application/ledger-store.js";

export type AdapterName = "sqlite" | "dynamodb";
export const ADAPTERS: AdapterName[] = ["sqlite", "dynamodb"];

let counter = 0;
/** A cell id no other test file uses (tables on the shared moto server are per cell). */
export function uniqueCellId(prefix = "t"): string {
  counter += 1;
  return `${prefix}${process.pid.toString(36)}${Date.now().toString(36)}${counter}`.toLowerCase().slice(0, 40);
}

export function dynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
}

export interface TestStore {
  store: LedgerStore;
  cellId: string;
  /** Environment that makes a cell-service process use the same store. */
  env: Record<string, string>;
}

/** A fresh, empty store of the given adapter: a temp SQLite file, or new tables on moto. */
export async function openTestStore(adapter: AdapterName, motoEndpoint: string): Promise<TestStore> {
  const cellId = uniqueCellId();
  if (adapter === "sqlite") {
    const path = join(mkdtempSync(join(tmpdir(), "cellwallet-")), "ledger.sqlite");
    return {
      cellId,
      store: new SqliteLedgerStore({ path }),
      env: { WALLET_STORE: "sqlite", WALLET_SQLITE_PATH: path },
    };
  }
  const client = dynamoClient(motoEndpoint);
  await ensureCellTables(client, cellId);
  return {
    cellId,
    store: createDynamoDbLedgerStore({ cellId, client }),
    env: {
      WALLET_STORE: "dynamodb",
      // The tables are per cell: without it a process would use startCellProcess's default cell's tables.
      CELL_ID: cellId,
      DYNAMODB_ENDPOINT: motoEndpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    },
  };
}
