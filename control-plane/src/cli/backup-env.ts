import type { KeyObject } from "node:crypto";
import { resolve } from "node:path";
import type { CellRecord } from "@cellwallet/placement";
import { announceIntendedKills } from "../local/intended-kills.js";
import {
  type LauncherStatus,
  launcherAlive,
  launcherStatusPath,
  readLauncherStatus,
} from "../local/launcher-status.js";
import { isProduction } from "./cli-env.js";

/** The cell service's backup code, loaded only by the backup commands (it keeps every other cellctl command fast). */
export function cellService(): Promise<typeof import("@cellwallet/cell-service")> {
  return import("@cellwallet/cell-service");
}

/** A cell's embedded ledger, where its processes keep it (cell-service config: WALLET_DATA_DIR/<cell>/ledger.sqlite). */
export function ledgerPathOf(env: NodeJS.ProcessEnv, cellId: string): string {
  return resolve(env.WALLET_DATA_DIR ?? ".data", cellId, "ledger.sqlite");
}

export function backupRoot(env: NodeJS.ProcessEnv): string {
  return resolve(env.WALLET_DATA_DIR ?? ".data", "backups");
}

/**
 * The checkpoint keys a backup's signatures must verify with, as the cells
 * trust them: CHECKPOINT_SIGNING_KEY's public half (the development key
 * locally, refused in production) and CHECKPOINT_TRUSTED_KEYS (SPKI, base64).
 */
export async function trustedCheckpointKeys(env: NodeJS.ProcessEnv): Promise<Map<string, KeyObject>> {
  const { checkpointKeysFromEnv } = await cellService();
  const { trusted } = checkpointKeysFromEnv(env, isProduction(env));
  if (trusted.size === 0) throw new Error("no trusted checkpoint key: set CHECKPOINT_TRUSTED_KEYS");
  return trusted;
}

/** The replicas of `cell` that answer /ready now. */
export async function liveReplicas(cell: CellRecord, timeoutMs = 1000): Promise<string[]> {
  const answers = await Promise.all(
    cell.endpoints.map(async (e) => {
      try {
        const res = await fetch(`${e.url.replace(/\/$/, "")}/ready`, { signal: AbortSignal.timeout(timeoutMs) });
        await res.body?.cancel();
        return res.status === 200 ? e.url : undefined;
      } catch {
        return undefined;
      }
    }),
  );
  return answers.filter((u): u is string => u !== undefined);
}

/** Tells the local launcher (same data dir) that `pids` are about to be killed on purpose, and why. */
export function announceLauncherKills(env: NodeJS.ProcessEnv, pids: readonly number[], reason: string): void {
  announceIntendedKills(resolve(env.WALLET_DATA_DIR ?? ".data"), pids, reason);
}

/** The pids the local launcher (npm start, same data dir) runs for `cellId`, when it runs. */
export function launcherPidsOf(env: NodeJS.ProcessEnv, cellId: string): number[] | undefined {
  const status: LauncherStatus | undefined = readLauncherStatus(
    launcherStatusPath(resolve(env.WALLET_DATA_DIR ?? ".data")),
  );
  if (!status || !launcherAlive(status)) return undefined;
  return status.processes.filter((p) => p.cellId === cellId && p.pid !== undefined).map((p) => p.pid as number);
}

/** A DynamoDB client, Region and table prefix as the cells use them (DYNAMODB_ENDPOINT, AWS_REGION, WALLET_TABLE_PREFIX). */
export async function dynamoDbFromEnv(env: NodeJS.ProcessEnv) {
  const { createDynamoDbClient } = await cellService();
  const region = env.AWS_REGION ?? "us-east-1";
  return {
    client: createDynamoDbClient({ region, ...(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}) }),
    region,
    tablePrefix: env.WALLET_TABLE_PREFIX ?? "cellwallet",
  };
}
