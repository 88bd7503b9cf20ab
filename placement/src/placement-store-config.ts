import { resolve } from "node:path";
import { DynamoDbPlacementStore } from "./dynamodb-placement-store.js";
import type { PlacementStore } from "./placement-store.js";
import { SqlitePlacementStore } from "./sqlite-placement-store.js";

/** Where the placement registry lives: an embedded SQLite file, or the DynamoDB placement tables. */
export type PlacementStoreConfig =
  | { kind: "sqlite"; path: string }
  | { kind: "dynamodb"; endpoint?: string; region: string; tablePrefix?: string };

/** The variables read; an empty value counts as unset, as it always has for these variables. */
export type PlacementStoreEnv = Readonly<Record<string, string | undefined>>;

/**
 * The one reading of the placement store's variables, shared by the router, cellctl, the local platform,
 * cellload and `npm run observe` so that they all open the same registry:
 * - `PLACEMENT_STORE`: `sqlite` (default) or `dynamodb`; anything else is an error;
 * - SQLite: `PLACEMENT_SQLITE_PATH`, default `<WALLET_DATA_DIR or .data>/control-plane/placement.sqlite`
 *   (an absolute path);
 * - DynamoDB: `AWS_REGION` (default us-east-1), `DYNAMODB_ENDPOINT` (emulators only),
 *   `PLACEMENT_TABLE_PREFIX` (default "cellwallet", see placement-tables.ts).
 */
export function placementStoreConfigFromEnv(env: PlacementStoreEnv): PlacementStoreConfig {
  const kind = env.PLACEMENT_STORE ?? "sqlite";
  if (kind === "sqlite") {
    const dataDir = resolve(env.WALLET_DATA_DIR ?? ".data");
    return {
      kind: "sqlite",
      path: resolve(env.PLACEMENT_SQLITE_PATH ?? resolve(dataDir, "control-plane", "placement.sqlite")),
    };
  }
  if (kind === "dynamodb") {
    return {
      kind: "dynamodb",
      region: env.AWS_REGION ?? "us-east-1",
      ...(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}),
      ...(env.PLACEMENT_TABLE_PREFIX ? { tablePrefix: env.PLACEMENT_TABLE_PREFIX } : {}),
    };
  }
  throw new Error(`PLACEMENT_STORE must be sqlite or dynamodb, got ${kind}`);
}

/** Opens the store a configuration names (the caller closes it). */
export function openPlacementStore(config: PlacementStoreConfig): PlacementStore {
  if (config.kind === "sqlite") return new SqlitePlacementStore({ path: config.path });
  return new DynamoDbPlacementStore({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.tablePrefix ? { tablePrefix: config.tablePrefix } : {}),
  });
}
