import { existsSync } from "node:fs";
import { DEVELOPMENT_JWT_SECRET, isProductionMode, mintToken, SCOPES } from "@cellwallet/contract";
import {
  type CellRecord,
  openPlacementStore,
  type PlacementStore,
  placementStoreConfigFromEnv,
} from "@cellwallet/placement";
import { createDynamoDbClient } from "@cellwallet/store-support/dynamodb";
import type { OperatorActionInput } from "../audit/operator-log.js";
import {
  DynamoDbOperatorLogStore,
  type OperatorLogStore,
  SqliteOperatorLogStore,
} from "../audit/operator-log-store.js";

/** Where the placement registry is, for messages: "sqlite /path/placement.sqlite" or "dynamodb at <endpoint>". */
export function registryLocation(env: NodeJS.ProcessEnv): string {
  const config = placementStoreConfigFromEnv(env);
  if (config.kind === "sqlite") return `sqlite ${config.path}`;
  const where = config.endpoint ? `dynamodb at ${config.endpoint}` : `dynamodb in ${config.region}`;
  return config.tablePrefix ? `${where}, tables ${config.tablePrefix}-*` : where;
}

/**
 * The refusal of a command asked to act on every cell of a registry that has none to act on: a wrong
 * WALLET_DATA_DIR or PLACEMENT_* opens an empty registry, and zero cells checked must not read as a pass.
 */
export function noCellMessage(env: NodeJS.ProcessEnv, what = "cell"): string {
  return `no ${what} in the registry at ${registryLocation(env)} (check WALLET_DATA_DIR or PLACEMENT_*)`;
}

const LABELLED = Symbol("cellctl.registryLabelled");

/**
 * A failure to reach or open the registry (a connection error, an AWS or SQLite error: they carry a `code`
 * or `$metadata`) names the registry: "placement registry (dynamodb at http://127.0.0.1:1): connect
 * ECONNREFUSED …", not a bare "connect ECONNREFUSED". The store's own refusals are left as they are.
 */
function labelled(error: unknown, what: string): unknown {
  if (typeof error !== "object" || error === null || (error as { [LABELLED]?: boolean })[LABELLED]) return error;
  const e = error as { code?: unknown; $metadata?: unknown; message?: unknown };
  if (typeof e.code !== "string" && e.$metadata === undefined) return error;
  if (typeof e.message === "string") {
    try {
      e.message = `${what}: ${e.message}`;
      Object.defineProperty(error, LABELLED, { value: true });
    } catch {
      // a frozen error: left as it is
    }
  }
  return error;
}

/** `target` with every method's failure (thrown, rejected, or while iterating its result) labelled. */
function labelFailures<T extends object>(target: T, what: string): T {
  const wrap = (value: unknown): unknown => {
    if (value instanceof Promise) {
      return value.catch((error: unknown) => {
        throw labelled(error, what);
      });
    }
    if (value && typeof value === "object" && Symbol.asyncIterator in value) {
      const iterable = value as AsyncIterable<unknown>;
      return (async function* () {
        try {
          yield* iterable;
        } catch (error) {
          throw labelled(error, what);
        }
      })();
    }
    return value;
  };
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        try {
          return wrap(value.apply(object, args));
        } catch (error) {
          throw labelled(error, what);
        }
      };
    },
  });
}

/**
 * How a command opens the registry. Only the commands that bring a registry into being (`cells register`,
 * `cells create`, the mint of `token`, which must be recorded somewhere) create a missing embedded one; every
 * other command refuses it (RegistryMissingError).
 */
export interface RegistryAccess {
  create?: boolean;
}

/** The embedded registry file is not there: nothing was created, the command could not run (exit 2). */
export class RegistryMissingError extends Error {}

/**
 * Refuses a missing embedded registry file. Opening SQLite creates the file and its directories, so a mistyped
 * WALLET_DATA_DIR or PLACEMENT_SQLITE_PATH used to leave a stray empty registry behind and read as a pass
 * ("(no cells registered)", "VALID: 0 records"). DynamoDB tables are never created here: a wrong prefix or
 * endpoint fails on its own and is named by openLabelled.
 */
function requireRegistry(env: NodeJS.ProcessEnv, access: RegistryAccess): void {
  const config = placementStoreConfigFromEnv(env);
  if (access.create || config.kind !== "sqlite" || existsSync(config.path)) return;
  const variable = env.PLACEMENT_SQLITE_PATH ? "PLACEMENT_SQLITE_PATH" : "WALLET_DATA_DIR";
  throw new RegistryMissingError(
    `no placement registry at ${config.path} (check ${variable}; npm start or cellctl cells register creates it)`,
  );
}

/** Opens something kept in the registry's store, its failures (opening included) naming the registry. */
function openLabelled<T extends object>(
  env: NodeJS.ProcessEnv,
  what: string,
  access: RegistryAccess,
  open: () => T,
): T {
  requireRegistry(env, access);
  const label = `${what} (${registryLocation(env)})`;
  try {
    return labelFailures(open(), label);
  } catch (error) {
    throw labelled(error, label);
  }
}

/** The placement registry as the router opens it (same variables, same defaults). */
export function openPlacementStoreFromEnv(env: NodeJS.ProcessEnv, access: RegistryAccess = {}): PlacementStore {
  return openLabelled(env, "placement registry", access, () => openPlacementStore(placementStoreConfigFromEnv(env)));
}

/** Opens the placement registry for one command and always closes it (a CLI must not leave a handle open). */
export async function withPlacementStore<T>(
  env: NodeJS.ProcessEnv,
  use: (store: PlacementStore) => Promise<T>,
  access: RegistryAccess = {},
): Promise<T> {
  const store = openPlacementStoreFromEnv(env, access);
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

export function isProduction(env: NodeJS.ProcessEnv): boolean {
  return isProductionMode(env);
}

/** The local JWT secret, refused in production when it is the development one or short. */
export function signingSecret(env: NodeJS.ProcessEnv): string {
  const secret = env.WALLET_JWT_SECRET || DEVELOPMENT_JWT_SECRET;
  if (isProduction(env) && (secret === DEVELOPMENT_JWT_SECRET || secret.length < 32)) {
    throw new Error("production mode refuses the development secret and secrets shorter than 32 characters");
  }
  return secret;
}

/**
 * The bearer token cellctl presents to cells for audit reads: WALLET_AUDITOR_TOKEN
 * (from the identity provider, for production cells behind JWKS) or a
 * short-lived wallet:auditor token minted locally with WALLET_JWT_SECRET.
 */
export async function auditorToken(env: NodeJS.ProcessEnv, operator: string): Promise<string> {
  if (env.WALLET_AUDITOR_TOKEN) return env.WALLET_AUDITOR_TOKEN;
  return mintToken({
    sub: operator,
    scopes: [SCOPES.auditor],
    secret: signingSecret(env),
    ttlSeconds: 900,
    ...(env.WALLET_JWT_ISSUER ? { issuer: env.WALLET_JWT_ISSUER } : {}),
    ...(env.WALLET_JWT_AUDIENCE ? { audience: env.WALLET_JWT_AUDIENCE } : {}),
  });
}

/** Replica URLs of a cell, preferred first: weight > 0 by descending weight, then evacuated AZs. */
export function endpointOrder(cell: CellRecord): string[] {
  return [...cell.endpoints]
    .sort((a, b) => (b.weight > 0 ? 1 : 0) - (a.weight > 0 ? 1 : 0) || b.weight - a.weight || a.az.localeCompare(b.az))
    .map((e) => e.url);
}

export type CellCallResult = { ok: true; status: number; body: unknown; url: string } | { ok: false; error: string };

/**
 * GET `path` on a cell, trying its replicas in order until one answers. Any HTTP
 * answer (even 4xx) ends the search; connection failures and 5xx move on.
 */
export async function getFromCell(
  cell: CellRecord,
  path: string,
  token: string,
  timeoutMs: number,
): Promise<CellCallResult> {
  const errors: string[] = [];
  for (const base of endpointOrder(cell)) {
    const url = `${base.replace(/\/$/, "")}${path}`;
    try {
      const response = await fetch(url, {
        headers: { authorization: `Bearer ${token}`, "x-request-id": `cellctl-${Date.now().toString(36)}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      if (response.status >= 500) {
        errors.push(`${base}: HTTP ${response.status}`);
        continue;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      return { ok: true, status: response.status, body, url };
    } catch (error) {
      errors.push(`${base}: ${(error as Error).message}`);
    }
  }
  if (errors.length === 0) errors.push("the cell has no endpoints in the registry");
  return { ok: false, error: errors.join("; ") };
}

/** Who runs cellctl, for the operator audit trail. */
export function operatorName(env: NodeJS.ProcessEnv): string {
  return env.CELLCTL_OPERATOR || env.USER || "cellctl";
}

/** The operator audit trail next to the placement registry (same variables as openPlacementStoreFromEnv). */
export function openOperatorLogFromEnv(env: NodeJS.ProcessEnv, access: RegistryAccess = {}): OperatorLogStore {
  return openLabelled(env, "operator audit trail in the placement registry", access, () => openOperatorLog(env));
}

function openOperatorLog(env: NodeJS.ProcessEnv): OperatorLogStore {
  const config = placementStoreConfigFromEnv(env);
  if (config.kind === "sqlite") return new SqliteOperatorLogStore(config.path);
  const client = createDynamoDbClient({
    env,
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
  });
  return new DynamoDbOperatorLogStore(client, config.tablePrefix, true);
}

/**
 * Records one operator action in the tamper-evident trail. Throws when it
 * cannot: callers refuse to complete an action that would go unrecorded.
 */
export async function recordOperatorAction(
  env: NodeJS.ProcessEnv,
  input: OperatorActionInput,
  access: RegistryAccess = {},
): Promise<void> {
  const log = openOperatorLogFromEnv(env, access);
  try {
    await log.append(input);
  } finally {
    await log.close();
  }
}
