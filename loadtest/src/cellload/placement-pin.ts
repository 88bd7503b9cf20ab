import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { DynamoDbPlacementStore, type PlacementStore, SqlitePlacementStore } from "@cellwallet/control-plane/placement";

/**
 * --cell through a router: each virtual user is pinned to the driven cell with a
 * placement override before its wallet is created, in the placement store the
 * routers read (the same variables and defaults as cellctl and the router:
 * PLACEMENT_STORE, PLACEMENT_SQLITE_PATH or WALLET_DATA_DIR, DYNAMODB_ENDPOINT,
 * PLACEMENT_TABLE_PREFIX). An embedded store file that does not exist is never
 * created: undefined then, and the caller explains what to set.
 */
export function openPinStore(env: NodeJS.ProcessEnv): { store: PlacementStore; where: string } | undefined {
  const kind = env.PLACEMENT_STORE ?? "sqlite";
  if (kind === "dynamodb") {
    const store = new DynamoDbPlacementStore({
      region: env.AWS_REGION ?? "us-east-1",
      ...(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}),
      ...(env.PLACEMENT_TABLE_PREFIX ? { tablePrefix: env.PLACEMENT_TABLE_PREFIX } : {}),
    });
    return { store, where: "DynamoDB placement tables" };
  }
  if (kind !== "sqlite") return undefined;
  const path = resolve(
    env.PLACEMENT_SQLITE_PATH ?? resolve(env.WALLET_DATA_DIR ?? ".data", "control-plane", "placement.sqlite"),
  );
  if (!existsSync(path)) return undefined;
  return { store: new SqlitePlacementStore({ path }), where: path };
}
