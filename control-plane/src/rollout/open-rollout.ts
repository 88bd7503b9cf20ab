import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { placementStoreConfigFromEnv } from "@cellwallet/placement";
import { createDynamoDbClient } from "@cellwallet/store-support/dynamodb";
import { LocalPlatformState, localPlatformStatePath } from "../local/local-platform-state.js";
import { DynamoDbRolloutStore, ensureRolloutTable } from "./dynamodb-rollout-store.js";
import type { RolloutStore } from "./rollout-store.js";
import { SqliteRolloutStore } from "./sqlite-rollout-store.js";

/**
 * Opens the rollout store next to the placement registry, with the same
 * variables: SQLite in `<WALLET_DATA_DIR>/control-plane/rollouts.sqlite`, or
 * DynamoDB (`PLACEMENT_STORE=dynamodb`) in `<PLACEMENT_TABLE_PREFIX>-control-rollouts`.
 */
export async function openRolloutStoreFromEnv(env: NodeJS.ProcessEnv): Promise<RolloutStore> {
  const placement = placementStoreConfigFromEnv(env);
  if (placement.kind === "sqlite") {
    const dataDir = resolve(env.WALLET_DATA_DIR ?? ".data");
    return new SqliteRolloutStore(resolve(dataDir, "control-plane", "rollouts.sqlite"));
  }
  const client = createDynamoDbClient({
    env,
    region: placement.region,
    ...(placement.endpoint ? { endpoint: placement.endpoint } : {}),
  });
  // Against an emulator the CLI creates the table; in AWS the control-plane stack owns it.
  if (placement.endpoint) await ensureRolloutTable(client, placement.tablePrefix);
  return new DynamoDbRolloutStore(client, placement.tablePrefix, true);
}

/** The local platform's declared state in WALLET_DATA_DIR, or undefined when no local platform ever ran there. */
export function openLocalPlatformState(env: NodeJS.ProcessEnv): LocalPlatformState | undefined {
  const path = localPlatformStatePath(resolve(env.WALLET_DATA_DIR ?? ".data"));
  return existsSync(path) ? new LocalPlatformState(path) : undefined;
}
