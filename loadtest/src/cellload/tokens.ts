import { readFileSync } from "node:fs";
import { DEVELOPMENT_JWT_SECRET, isProductionMode, mintToken } from "@cellwallet/contract";
import { UsageError } from "./options.js";

/**
 * Where the run's bearer tokens come from: minted per user with
 * WALLET_JWT_SECRET (as `cellctl token` does; the local development secret when
 * unset), or read from --token-file for deployments behind an identity provider:
 *
 *   {"operator": "<jwt with wallet:operator (and wallet:auditor for --verify)>",
 *    "users": {"<userId>": "<jwt of that user, scope wallet>", ...}}
 *
 * With a file the virtual users are exactly the file's users, and scenarios that
 * need brand-new users (journey, onboarding-burst) are refused.
 */
export interface TokenSource {
  operator(): Promise<string>;
  user(userId: string): Promise<string>;
  /** The users a token file names; undefined when tokens are minted. */
  fixedUsers: string[] | undefined;
}

export function mintingTokens(env: NodeJS.ProcessEnv): TokenSource {
  const secret = env.WALLET_JWT_SECRET || DEVELOPMENT_JWT_SECRET;
  const production = isProductionMode(env);
  if (production && (secret === DEVELOPMENT_JWT_SECRET || secret.length < 32)) {
    throw new UsageError("production mode refuses the development secret: set WALLET_JWT_SECRET or use --token-file");
  }
  const claims = {
    ...(env.WALLET_JWT_ISSUER ? { issuer: env.WALLET_JWT_ISSUER } : {}),
    ...(env.WALLET_JWT_AUDIENCE ? { audience: env.WALLET_JWT_AUDIENCE } : {}),
  };
  const cache = new Map<string, Promise<string>>();
  const mint = (sub: string, scopes: string[]) => {
    const key = `${sub} ${scopes.join(" ")}`;
    let token = cache.get(key);
    if (!token) {
      token = mintToken({ sub, scopes, secret, ttlSeconds: 6 * 3600, ...claims });
      cache.set(key, token);
    }
    return token;
  };
  return {
    operator: () => mint("cellload-operator", ["wallet:operator", "wallet:auditor"]),
    user: (userId) => mint(userId, ["wallet"]),
    fixedUsers: undefined,
  };
}

export function fileTokens(path: string): TokenSource {
  let parsed: { operator?: unknown; users?: unknown };
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new UsageError(`--token-file ${path}: ${(error as Error).message.split("\n")[0]}`);
  }
  const users = parsed.users as Record<string, unknown> | undefined;
  if (typeof parsed.operator !== "string" || typeof users !== "object" || users === null) {
    throw new UsageError(`--token-file ${path}: expected {"operator": "<jwt>", "users": {"<userId>": "<jwt>"}}`);
  }
  const entries = Object.entries(users).filter((e): e is [string, string] => typeof e[1] === "string");
  if (entries.length < 2) throw new UsageError(`--token-file ${path}: name at least two users`);
  const map = new Map(entries);
  const operator = parsed.operator;
  return {
    operator: async () => operator,
    user: async (userId) => {
      const token = map.get(userId);
      if (!token) throw new Error(`no token for ${userId} in the token file`);
      return token;
    },
    fixedUsers: [...map.keys()],
  };
}
