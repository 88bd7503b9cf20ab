import { describe, expect, it } from "vitest";
import { isAllowed, type Principal } from "./auth.js";
import { createTokenVerifier, DEVELOPMENT_JWT_SECRET, mintToken } from "./jwt.js";

const user = (sub: string, ...scopes: string[]): Principal => ({ subject: sub, scopes });

describe("isAllowed", () => {
  it("lets a wallet user act on their own wallet only", () => {
    const alice = user("alice", "wallet");
    for (const action of [
      "wallet:create",
      "wallet:deposit",
      "wallet:withdraw",
      "wallet:transfer-out",
      "wallet:read",
    ] as const) {
      expect(isAllowed(alice, action, "alice")).toBe(true);
      expect(isAllowed(alice, action, "bob")).toBe(false);
    }
    expect(isAllowed(user("alice"), "wallet:read", "alice")).toBe(false);
  });

  it("lets operators move money in and out of any wallet but never transfer out of another's", () => {
    const ops = user("ops", "wallet:operator");
    expect(isAllowed(ops, "wallet:deposit", "bob")).toBe(true);
    expect(isAllowed(ops, "wallet:withdraw", "bob")).toBe(true);
    expect(isAllowed(ops, "wallet:create", "bob")).toBe(true);
    expect(isAllowed(ops, "wallet:read", "bob")).toBe(true);
    expect(isAllowed(ops, "wallet:transfer-out", "bob")).toBe(false);
    expect(isAllowed(ops, "cell:audit")).toBe(false);
  });

  it("lets auditors read everything and change nothing", () => {
    const auditor = user("aud", "wallet:auditor");
    expect(isAllowed(auditor, "wallet:read", "bob")).toBe(true);
    expect(isAllowed(auditor, "cell:audit")).toBe(true);
    for (const action of ["wallet:create", "wallet:deposit", "wallet:withdraw", "wallet:transfer-out"] as const) {
      expect(isAllowed(auditor, action, "bob")).toBe(false);
    }
  });
});

describe("token verification", () => {
  const verify = createTokenVerifier({ kind: "hs256", secret: DEVELOPMENT_JWT_SECRET });

  it("accepts a token it signed and reads sub and scopes", async () => {
    const token = await mintToken({
      sub: "alice",
      scopes: ["wallet", "wallet:auditor"],
      secret: DEVELOPMENT_JWT_SECRET,
    });
    expect(await verify(token)).toEqual({
      ok: true,
      principal: { subject: "alice", scopes: ["wallet", "wallet:auditor"] },
    });
  });

  it("refuses other secrets, expired tokens, alg none and tampering", async () => {
    const other = await mintToken({ sub: "alice", scopes: ["wallet"], secret: "x".repeat(40) });
    expect((await verify(other)).ok).toBe(false);
    const expired = await mintToken({
      sub: "alice",
      scopes: ["wallet"],
      secret: DEVELOPMENT_JWT_SECRET,
      ttlSeconds: -10,
    });
    expect((await verify(expired)).ok).toBe(false);
    const header = Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url");
    const payload = Buffer.from(
      `{"sub":"alice","scope":"wallet","exp":${Math.floor(Date.now() / 1000) + 60}}`,
    ).toString("base64url");
    expect((await verify(`${header}.${payload}.`)).ok).toBe(false);
    const good = await mintToken({ sub: "alice", scopes: ["wallet"], secret: DEVELOPMENT_JWT_SECRET });
    const [h, , s] = good.split(".");
    const forged = Buffer.from(
      `{"sub":"bob","scope":"wallet:operator","exp":${Math.floor(Date.now() / 1000) + 60}}`,
    ).toString("base64url");
    expect((await verify(`${h}.${forged}.${s}`)).ok).toBe(false);
  });
});
