import { resolve } from "node:path";
import {
  assertProductionSafe,
  DEVELOPMENT_INTERNAL_SECRET,
  instanceIdFromEnv,
  isProductionMode,
  type JwtConfig,
  jwtConfigFromEnv,
} from "@cellwallet/contract";
import { type PlacementStoreConfig, placementStoreConfigFromEnv } from "@cellwallet/placement";

export type { PlacementStoreConfig } from "@cellwallet/placement";

export interface RouterConfig {
  az: string;
  /** Which launch this is (CELLWALLET_INSTANCE, set by the launcher): echoed on /health and /ready. */
  instance?: string;
  host: string;
  port: number;
  production: boolean;
  jwt: JwtConfig;
  /** HS256 secret of the service tokens cells use on the internal API. */
  internalSecret: string;
  placementStore: PlacementStoreConfig;
  /** Last-known-good registry and placements (static stability). */
  stateFile: string;
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  healthIntervalMs: number;
  cellConnections: number;
  cellTimeoutMs: number;
  cellMaxInflight: number;
  placementTtlMs: number;
  placementTimeoutMs: number;
  placementCacheMax: number;
  registryRefreshMs: number;
  logLevel: string;
  /** Onboarding skips a cell above this fraction of its measured max ops/s (ROUTER_PLACEMENT_OPS_THRESHOLD, default 0.8). */
  opsThreshold?: number;
  /** Routers sharing the traffic evenly (ROUTER_PEERS, default 1): a cell's rate is estimated as this router's × peers. */
  peers?: number;
  /** Proxies in front of the router whose X-Forwarded-For it passes on (ROUTER_TRUSTED_PROXIES; default none). */
  trustedProxies?: string[];
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  const value = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got ${raw}`);
  return value;
}

/** Reads the router's configuration from the environment (documented in cell-router/README.md). */
export function routerConfigFromEnv(env: NodeJS.ProcessEnv): RouterConfig {
  const production = isProductionMode(env);
  const az = env.AZ ?? "az-1";
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(az)) throw new Error(`AZ must be 1..64 of A-Z a-z 0-9 . _ -, got ${az}`);
  const dataDir = resolve(env.WALLET_DATA_DIR ?? ".data");

  const jwt = jwtConfigFromEnv(env);
  const internalSecret = env.CELL_INTERNAL_SECRET || DEVELOPMENT_INTERNAL_SECRET;
  if (production) {
    assertProductionSafe(jwt);
    if (internalSecret === DEVELOPMENT_INTERNAL_SECRET) {
      throw new Error("production mode refuses the development CELL_INTERNAL_SECRET");
    }
    if (internalSecret.length < 32)
      throw new Error("production mode needs a CELL_INTERNAL_SECRET of at least 32 characters");
    if (jwt.kind === "hs256" && jwt.secret === internalSecret) {
      throw new Error("CELL_INTERNAL_SECRET must differ from WALLET_JWT_SECRET");
    }
  }

  const placementStore = placementStoreConfigFromEnv(env);
  const instance = instanceIdFromEnv(env);

  const port = int(env, "ROUTER_PORT", 8080, 0);
  if (port > 65535) throw new Error(`ROUTER_PORT is not a port: ${env.ROUTER_PORT}`);
  const rateLimitPerSecond = int(env, "ROUTER_RATE_LIMIT_PER_SECOND", 200, 0);
  const rateLimitBurst = int(env, "ROUTER_RATE_LIMIT_BURST", 400, 1);
  return {
    az,
    ...(instance ? { instance } : {}),
    host: env.HOST ?? "127.0.0.1",
    port,
    production,
    jwt,
    internalSecret,
    placementStore,
    stateFile: resolve(env.ROUTER_STATE_FILE ?? resolve(dataDir, `router-${az}.json`)),
    rateLimitPerSecond,
    rateLimitBurst,
    healthIntervalMs: int(env, "ROUTER_HEALTH_INTERVAL_MS", 1000, 50),
    cellConnections: int(env, "ROUTER_CELL_CONNECTIONS", 64, 1),
    cellTimeoutMs: int(env, "ROUTER_CELL_TIMEOUT_MS", 3000, 50),
    cellMaxInflight: int(env, "ROUTER_CELL_MAX_INFLIGHT", 256, 1),
    placementTtlMs: int(env, "ROUTER_PLACEMENT_TTL_MS", 5000, 0),
    placementTimeoutMs: int(env, "ROUTER_PLACEMENT_TIMEOUT_MS", 1000, 10),
    placementCacheMax: int(env, "ROUTER_PLACEMENT_CACHE_MAX", 100_000, 1),
    registryRefreshMs: int(env, "ROUTER_REGISTRY_REFRESH_MS", 2000, 50),
    logLevel: env.LOG_LEVEL ?? "info",
    opsThreshold: opsThresholdFromEnv(env),
    peers: int(env, "ROUTER_PEERS", 1, 1),
    trustedProxies: (env.ROUTER_TRUSTED_PROXIES ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

function opsThresholdFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.ROUTER_PLACEMENT_OPS_THRESHOLD;
  const value = raw === undefined || raw === "" ? 0.8 : Number(raw);
  if (!(value > 0 && value <= 1)) throw new Error(`ROUTER_PLACEMENT_OPS_THRESHOLD must be in (0, 1], got ${raw}`);
  return value;
}
