import type { webcrypto } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertProductionSafe, createTokenVerifier, jwtConfigFromEnv } from "./jwt.js";

/** Production mode: keys from a JWKS URL (served here on loopback), issuer and audience checked. */
describe("JWKS verification", () => {
  let server: Server;
  let url: string;
  let sign: (claims: { iss?: string; aud?: string; sub?: string }, key?: webcrypto.CryptoKey) => Promise<string>;
  let otherKey: webcrypto.CryptoKey;

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    otherKey = (await generateKeyPair("ES256")).privateKey;
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
    sign = (claims, key = privateKey) => {
      const jwt = new SignJWT({ scope: "wallet" })
        .setProtectedHeader({ alg: "ES256", kid: "k1" })
        .setSubject(claims.sub ?? "alice")
        .setIssuedAt()
        .setExpirationTime("5m");
      if (claims.iss) jwt.setIssuer(claims.iss);
      if (claims.aud) jwt.setAudience(claims.aud);
      return jwt.sign(key);
    };
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("needs issuer and audience with a JWKS URL", () => {
    expect(() => jwtConfigFromEnv({ WALLET_JWKS_URL: "http://127.0.0.1/jwks" })).toThrow(/ISSUER/);
  });

  it("production mode fetches keys only over https", () => {
    const env = { WALLET_JWT_ISSUER: "https://idp", WALLET_JWT_AUDIENCE: "cellwallet" };
    expect(() => assertProductionSafe(jwtConfigFromEnv({ ...env, WALLET_JWKS_URL: "http://idp/jwks" }))).toThrow(
      "production mode needs an https WALLET_JWKS_URL, got http://idp/jwks",
    );
    expect(() => assertProductionSafe(jwtConfigFromEnv({ ...env, WALLET_JWKS_URL: "https://idp/jwks" }))).not.toThrow();
  });

  it("accepts a token from the right issuer for the right audience, and nothing else", async () => {
    const verify = createTokenVerifier(
      jwtConfigFromEnv({ WALLET_JWKS_URL: url, WALLET_JWT_ISSUER: "https://idp", WALLET_JWT_AUDIENCE: "cellwallet" }),
    );
    const good = await verify(await sign({ iss: "https://idp", aud: "cellwallet" }));
    expect(good).toEqual({ ok: true, principal: { subject: "alice", scopes: ["wallet"] } });
    expect((await verify(await sign({ iss: "https://evil", aud: "cellwallet" }))).ok).toBe(false);
    expect((await verify(await sign({ iss: "https://idp", aud: "other" }))).ok).toBe(false);
    expect((await verify(await sign({ iss: "https://idp", aud: "cellwallet" }, otherKey))).ok).toBe(false);
  });
});
