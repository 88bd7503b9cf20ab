import { createDynamoDbLedgerStore } from "../cell-service/src/adapters/dynamodb/dynamodb-ledger-store.js";
import { SqliteLedgerStore } from "../cell-service/src/adapters/sqlite/sqlite-ledger-store.js";
import type { LedgerStore } from "../cell-service/src/application/ledger-store.js";
import { dynamoClient, type TestStore } from "./stores.js";

/** A second connection to the same stored data: what another replica of the cell opens. */
export function secondReplicaStore(test: TestStore, motoEndpoint: string): LedgerStore {
  if (test.env.WALLET_STORE === "sqlite") return new SqliteLedgerStore({ path: String(test.env.WALLET_SQLITE_PATH) });
  return createDynamoDbLedgerStore({ cellId: test.cellId, client: dynamoClient(motoEndpoint) });
}
