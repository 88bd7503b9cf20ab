import type { TableDefinition } from "@cellwallet/store-support/dynamodb";

/**
 * The rollouts table in DynamoDB, as plain data (no SDK) so the infrastructure
 * stacks import it next to the placement tables and cannot drift from the
 * store: one item per rollout (`rolloutId`) plus one `#active` item naming the
 * active rollout, which conditional transactions keep unique.
 */
export const ROLLOUT_TABLE = {
  logicalName: "rollouts",
  suffix: "control-rollouts",
  partitionKey: { name: "rolloutId", type: "S" },
  attributeDefinitions: [{ name: "rolloutId", type: "S" }],
  billingMode: "PAY_PER_REQUEST",
} as const satisfies TableDefinition & { logicalName: string; suffix: string };

export const ACTIVE_ROLLOUT_KEY = "#active";

export function rolloutTableName(prefix = "cellwallet"): string {
  if (!/^[A-Za-z0-9_.-]{1,200}$/.test(prefix)) throw new Error(`invalid table prefix ${JSON.stringify(prefix)}`);
  return `${prefix}-${ROLLOUT_TABLE.suffix}`;
}
