import { existsSync } from "node:fs";
import {
  openPlacementStore,
  type PlacementStore,
  type PlacementStoreConfig,
  placementStoreConfigFromEnv,
} from "@cellwallet/placement";

/**
 * --cell through a router: each virtual user is pinned to the driven cell with a
 * placement override before its wallet is created, in the placement store the
 * routers read (read by the same function as cellctl and the router:
 * PLACEMENT_STORE, PLACEMENT_SQLITE_PATH or WALLET_DATA_DIR, DYNAMODB_ENDPOINT,
 * PLACEMENT_TABLE_PREFIX). An embedded store file that does not exist is never
 * created: undefined then, and the caller explains what to set.
 */
export function openPinStore(env: NodeJS.ProcessEnv): { store: PlacementStore; where: string } | undefined {
  let config: PlacementStoreConfig;
  try {
    config = placementStoreConfigFromEnv(env);
  } catch {
    return undefined; // an unknown PLACEMENT_STORE: the caller says what to set
  }
  if (config.kind === "dynamodb") return { store: openPlacementStore(config), where: "DynamoDB placement tables" };
  if (!existsSync(config.path)) return undefined;
  return { store: openPlacementStore(config), where: config.path };
}
