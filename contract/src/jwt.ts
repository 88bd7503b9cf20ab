import { createSecretKey, KeyObject } from "node:crypto";
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from "jose";
import type { Principal } from "./auth.js";
import { cacheVerifiedTokens, type TokenCacheOptions, type VerifiedToken } from "./token-cache.js";

/**
 * The development signing secret. It exists so `npm start` works out of the box;
 * production mode refuses to start with it (see assertProductionSafe).
 */
/**
 * An Authorization header carrying a bearer token, and the token (group 1). The scheme is case-insensitive
 * (RFC 9110 §11.1), so the router and the cells must both accept "bearer"; one pattern keeps them agreeing.
 */
export const BEARER_AUTHORIZATION = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i;

export const DEVELOPMENT_JWT_SECRET = "cellwallet-local-development-secret-NOT-FOR-PRODUCTION";

export type JwtConfig =
  | { kind: "hs256"; secret: string; issuer?: string; audience?: string }
  | { kind: "jwks"; jwksUrl: string; issuer: string; audience: string };

export interface JwtEnv {
  WALLET_JWT_SECRET?: string;
  WALLET_JWKS_URL?: string;
  WALLET_JWT_ISSUER?: string;
  WALLET_JWT_AUDIENCE?: string;
}

export function jwtConfigFromEnv(env: JwtEnv): JwtConfig {
  if (env.WALLET_JWKS_URL) {
    if (!env.WALLET_JWT_ISSUER || !env.WALLET_JWT_AUDIENCE) {
      throw new Error("WALLET_JWKS_URL needs WALLET_JWT_ISSUER and WALLET_JWT_AUDIENCE");
    }
    return {
      kind: "jwks",
      jwksUrl: env.WALLET_JWKS_URL,
      issuer: env.WALLET_JWT_ISSUER,
      audience: env.WALLET_JWT_AUDIENCE,
    };
  }
  const config: JwtConfig = { kind: "hs256", secret: env.WALLET_JWT_SECRET || DEVELOPMENT_JWT_SECRET };
  if (env.WALLET_JWT_ISSUER) config.issuer = env.WALLET_JWT_ISSUER;
  if (env.WALLET_JWT_AUDIENCE) config.audience = env.WALLET_JWT_AUDIENCE;
  return config;
}

/**
 * Production refuses the development secret, short shared secrets, and keys fetched over plain HTTP (whoever can
 * answer for the JWKS host could then sign any user's tokens).
 */
export function assertProductionSafe(config: JwtConfig): void {
  if (config.kind === "jwks" && new URL(config.jwksUrl).protocol !== "https:") {
    throw new Error(`production mode needs an https WALLET_JWKS_URL, got ${config.jwksUrl}`);
  }
  if (config.kind === "hs256") {
    if (config.secret === DEVELOPMENT_JWT_SECRET) {
      throw new Error(
        "production mode refuses the development JWT secret: set WALLET_JWKS_URL (or a real WALLET_JWT_SECRET)",
      );
    }
    if (config.secret.length < 32)
      throw new Error("production mode needs a WALLET_JWT_SECRET of at least 32 characters");
  }
}

const LONE_SURROGATE = /\p{Cs}/u;

export type VerifyResult = { ok: true; principal: Principal } | { ok: false; reason: string };

export type TokenVerifier = (token: string) => Promise<VerifyResult>;

/**
 * Verifies bearer tokens under `config`. Tokens that pass are cached (token-cache.ts: bounded, until
 * their exp and at most 30 s); `cache: false` verifies every call in full.
 */
export function createTokenVerifier(config: JwtConfig, cache: TokenCacheOptions | false = {}): TokenVerifier {
  const verify = createUncachedVerifier(config);
  if (cache !== false) return cacheVerifiedTokens(verify, cache);
  return async (token) => {
    const verified = await verify(token);
    return verified.ok ? { ok: true, principal: verified.principal } : verified;
  };
}

function createUncachedVerifier(config: JwtConfig): (token: string) => Promise<VerifiedToken> {
  // The HS256 key is imported once: importing raw bytes on every verification cost ~20% of the router's CPU.
  const key: KeyObject | JWTVerifyGetKey =
    config.kind === "hs256"
      ? createSecretKey(Buffer.from(config.secret, "utf8"))
      : createRemoteJWKSet(new URL(config.jwksUrl));
  const options = {
    algorithms: config.kind === "hs256" ? ["HS256"] : ["RS256", "ES256", "EdDSA", "PS256"],
    ...(config.issuer ? { issuer: config.issuer } : {}),
    ...(config.audience ? { audience: config.audience } : {}),
    requiredClaims: ["sub", "exp"],
  };
  return async (token) => {
    let payload: JWTPayload;
    try {
      // jose accepts a key or a key-resolver; the overloads differ only in that.
      payload =
        key instanceof KeyObject
          ? (await jwtVerify(token, key, options)).payload
          : (await jwtVerify(token, key, options)).payload;
    } catch (error) {
      return { ok: false, reason: error instanceof Error ? error.message : "invalid token" };
    }
    const subject = payload.sub;
    // Lone surrogates cannot be canonicalized (RFC 8785) into the audit context: refuse them here.
    if (typeof subject !== "string" || subject.length === 0 || subject.length > 128 || LONE_SURROGATE.test(subject)) {
      return { ok: false, reason: "token has no usable sub" };
    }
    const scope = payload.scope;
    if (typeof scope === "string" && LONE_SURROGATE.test(scope)) {
      return { ok: false, reason: "token has an unusable scope" };
    }
    const scopes = typeof scope === "string" ? scope.split(" ").filter((s) => s.length > 0) : [];
    // requiredClaims has made jose check that exp is there and a number in the future.
    return { ok: true, principal: { subject, scopes }, expiresAt: payload.exp as number };
  };
}

export interface MintOptions {
  sub: string;
  scopes: string[];
  secret: string;
  ttlSeconds?: number;
  issuer?: string;
  audience?: string;
}

/** Mints an HS256 token (local development, tests and the router-to-cell hop). */
export async function mintToken(options: MintOptions): Promise<string> {
  const jwt = new SignJWT({ scope: options.scopes.join(" ") })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds ?? 3600}s`);
  if (options.issuer) jwt.setIssuer(options.issuer);
  if (options.audience) jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}
