import type { KeyObject } from "node:crypto";
import { resolve } from "node:path";
import {
  assertProductionSafe,
  DEVELOPMENT_INTERNAL_SECRET,
  instanceIdFromEnv,
  isProductionMode,
  type JwtConfig,
  jwtConfigFromEnv,
} from "@cellwallet/contract";
import { MIN_IDEMPOTENCY_RETENTION_MS } from "./application/idempotency.js";
import { checkpointKeysFromEnv } from "./checkpoint-keys.js";
import type { CheckpointSigner } from "./domain/checkpoint.js";

export type StoreConfig =
  | { kind: "sqlite"; path: string }
  | { kind: "dynamodb"; endpoint?: string; region: string; tablePrefix: string; createTables: boolean };

export interface CellConfig {
  cellId: string;
  az: string;
  /** The build this process runs (CELL_VERSION, default "dev"): reported on /ready and as cellwallet_build_info. */
  version: string;
  /** Which launch this is (CELLWALLET_INSTANCE, set by the launcher): echoed on /health and /ready. */
  instance?: string;
  host: string;
  port: number;
  production: boolean;
  store: StoreConfig;
  jwt: JwtConfig;
  trustedProxies: string[];
  idempotencyRetentionMs: number;
  logLevel: string;
  /** Secret of the service tokens between cells and router (HS256). */
  internalSecret: string;
  /** Signs this cell's checkpoints (Ed25519). */
  checkpointSigner: CheckpointSigner;
  /** Public keys whose checkpoint signatures verification accepts, by keyId (always includes our own). */
  checkpointTrustedKeys: ReadonlyMap<string, KeyObject>;
  /** How old the latest checkpoint may get before the job writes the next; 0 disables the job. */
  checkpointIntervalMs: number;
  /** Interval of the periodic whole-cell verification; 0 (default) disables it. */
  verifyIntervalMs: number;
  /** Cross-cell transfers: the router that reaches other cells; absent = this cell runs alone. */
  crossCell?: { routerUrl: string; creditTimeoutMs: number; retryIntervalMs: number };
}

const CELL_ID = /^[a-z0-9-]{1,40}$/;

/** Reads the cell's configuration from the environment (documented in the README). */
export function cellConfigFromEnv(env: NodeJS.ProcessEnv): CellConfig {
  const cellId = env.CELL_ID ?? "cell-1";
  if (!CELL_ID.test(cellId)) throw new Error(`CELL_ID must be 1..40 of a-z 0-9 -, got ${cellId}`);
  const production = isProductionMode(env);
  const retentionHours = Number(env.IDEMPOTENCY_RETENTION_HOURS ?? "24");
  const retentionMs = retentionHours * 3600_000;
  if (!Number.isFinite(retentionMs) || retentionMs < MIN_IDEMPOTENCY_RETENTION_MS) {
    throw new Error("IDEMPOTENCY_RETENTION_HOURS must be at least 24");
  }
  const storeKind = env.WALLET_STORE ?? "sqlite";
  let store: StoreConfig;
  if (storeKind === "sqlite") {
    const dataDir = resolve(env.WALLET_DATA_DIR ?? ".data");
    store = { kind: "sqlite", path: env.WALLET_SQLITE_PATH ?? resolve(dataDir, cellId, "ledger.sqlite") };
  } else if (storeKind === "dynamodb") {
    store = {
      kind: "dynamodb",
      region: env.AWS_REGION ?? "us-east-1",
      tablePrefix: env.WALLET_TABLE_PREFIX ?? "cellwallet",
      // Locally (moto) the cell creates its tables; in AWS the infra stacks own them.
      createTables: (env.WALLET_CREATE_TABLES ?? (env.DYNAMODB_ENDPOINT ? "true" : "false")) === "true",
      ...(env.DYNAMODB_ENDPOINT ? { endpoint: env.DYNAMODB_ENDPOINT } : {}),
    };
  } else {
    throw new Error(`WALLET_STORE must be sqlite or dynamodb, got ${storeKind}`);
  }
  const jwt = jwtConfigFromEnv(env);
  if (production) assertProductionSafe(jwt);
  const internalSecret = env.CELL_INTERNAL_SECRET || DEVELOPMENT_INTERNAL_SECRET;
  if (production && (internalSecret === DEVELOPMENT_INTERNAL_SECRET || internalSecret.length < 32)) {
    throw new Error("production mode needs a CELL_INTERNAL_SECRET of at least 32 characters (not the development one)");
  }
  // As the router requires: a user token must never be a valid service token too.
  if (production && jwt.kind === "hs256" && jwt.secret === internalSecret) {
    throw new Error("CELL_INTERNAL_SECRET must differ from WALLET_JWT_SECRET");
  }
  const positive = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
    return value;
  };
  const crossCell = env.ROUTER_INTERNAL_URL
    ? {
        routerUrl: env.ROUTER_INTERNAL_URL,
        // Also the worker's timeout: below a round trip, every credit would time out and transfers stay PENDING.
        creditTimeoutMs: Math.max(100, positive("CROSS_CELL_CREDIT_TIMEOUT_MS", 2000)),
        retryIntervalMs: positive("CROSS_CELL_RETRY_INTERVAL_MS", 2000),
      }
    : undefined;
  const { signer: checkpointSigner, trusted } = checkpointKeysFromEnv(env, production);
  if (!checkpointSigner) {
    throw new Error(
      "production mode needs a CHECKPOINT_SIGNING_KEY (Ed25519 PKCS#8 DER, base64), not the development key",
    );
  }
  const checkpointIntervalMs = Number(env.CHECKPOINT_INTERVAL_MS ?? 3_600_000);
  if (!Number.isInteger(checkpointIntervalMs) || checkpointIntervalMs < 0) {
    throw new Error("CHECKPOINT_INTERVAL_MS must be a non-negative integer (0 disables checkpoints)");
  }
  const verifyIntervalMs = Number(env.VERIFY_INTERVAL_MS ?? 0);
  if (!Number.isInteger(verifyIntervalMs) || verifyIntervalMs < 0) {
    throw new Error("VERIFY_INTERVAL_MS must be a non-negative integer (0 disables periodic verification)");
  }
  const instance = instanceIdFromEnv(env);
  const port = Number(env.PORT ?? "9000");
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT is not a port: ${env.PORT}`);
  return {
    cellId,
    az: env.AZ ?? "az-1",
    version: (env.CELL_VERSION ?? "").trim() || "dev",
    ...(instance ? { instance } : {}),
    host: env.HOST ?? "127.0.0.1",
    port,
    production,
    store,
    jwt,
    trustedProxies: (env.TRUSTED_PROXIES ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    idempotencyRetentionMs: retentionMs,
    logLevel: env.LOG_LEVEL ?? "info",
    internalSecret,
    checkpointSigner,
    checkpointTrustedKeys: trusted,
    checkpointIntervalMs,
    verifyIntervalMs,
    ...(crossCell ? { crossCell } : {}),
  };
}
