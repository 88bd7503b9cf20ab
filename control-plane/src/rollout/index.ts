/** What the infrastructure imports from the rollout module: the rollouts table's definition (no SDK). */
export { ACTIVE_ROLLOUT_KEY, ROLLOUT_TABLE, rolloutTableName } from "./rollout-table.js";
