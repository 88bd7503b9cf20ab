/**
 * `cellctl token` as operators and CI run it: a real `node control-plane/bin/cellctl.js`
 * process (built by `tsc -b`), its exit code, stdout and stderr, and a real cell
 * process that must accept what it mints.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTokenVerifier, DEVELOPMENT_JWT_SECRET } from "@cellwallet/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CellProcess, startCellProcess } from "../../test-support/cell-process.js";
import { runCellctl } from "../../test-support/cellctl.js";
import { http } from "../../test-support/http.js";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Where these runs record operator actions (the registry file cellctl would otherwise find under .data/). */
const registryPath = join(mkdtempSync(join(tmpdir(), "cellwallet-cellctl-registry-")), "placement.sqlite");

/** Runs cellctl with a clean environment: only PATH/HOME, a temporary registry, plus what the test sets. */
function cellctl(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runCellctl(args, { PLACEMENT_SQLITE_PATH: registryPath, ...env });
}

function decodePart(part: string | undefined): Record<string, unknown> {
  return JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));
}

function decodeJwt(text: string) {
  const jwt = text.trim();
  expect(jwt).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  const [header, payload] = jwt.split(".");
  return { jwt, header: decodePart(header), payload: decodePart(payload) };
}

const verifyDev = createTokenVerifier({ kind: "hs256", secret: DEVELOPMENT_JWT_SECRET });

describe("cellctl token", () => {
  it("prints one HS256 JWT with sub, scope, iat and exp one hour ahead by default", async () => {
    const before = Math.floor(Date.now() / 1000);
    const run = await cellctl(["token", "--sub", "alice", "--scope", "wallet"]);
    const after = Math.ceil(Date.now() / 1000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe("");
    expect(run.stdout.endsWith("\n")).toBe(true);
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    const { jwt, header, payload } = decodeJwt(run.stdout);
    expect(header).toEqual({ alg: "HS256", typ: "JWT" });
    expect(payload.sub).toBe("alice");
    expect(payload.scope).toBe("wallet");
    const exp = payload.exp as number;
    const iat = payload.iat as number;
    expect(exp - iat).toBe(3600);
    expect(iat).toBeGreaterThanOrEqual(before - 1);
    expect(iat).toBeLessThanOrEqual(after);
    // Signed with the development secret: the cell's verifier accepts it.
    const verified = await verifyDev(jwt);
    expect(verified).toEqual({ ok: true, principal: { subject: "alice", scopes: ["wallet"] } });
  });

  it("--ttl 15m gives a 900 s token; --ttl accepts plain seconds and h/d units", async () => {
    for (const [ttl, seconds] of [
      ["15m", 900],
      ["90", 90],
      ["2h", 7200],
      ["1d", 86400],
    ] as const) {
      const run = await cellctl(["token", "--sub", "alice", "--ttl", ttl]);
      expect(run.code, `${ttl}: ${run.stderr}`).toBe(0);
      const { payload } = decodeJwt(run.stdout);
      expect((payload.exp as number) - (payload.iat as number), ttl).toBe(seconds);
      expect(payload.exp as number).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + seconds - 5);
    }
  });

  it("defaults --scope to wallet and keeps several scopes space-separated", async () => {
    const plain = decodeJwt((await cellctl(["token", "--sub", "bob"])).stdout);
    expect(plain.payload.scope).toBe("wallet");
    const run = await cellctl(["token", "--sub", "ops-jane", "--scope", "wallet:operator  wallet:auditor"]);
    expect(run.code, run.stderr).toBe(0);
    expect(decodeJwt(run.stdout).payload.scope).toBe("wallet:operator wallet:auditor");
  });

  it("refuses unknown or empty scopes with a message and a non-zero exit", async () => {
    // wallet:internal is for service tokens only: cellctl never mints it for a user.
    for (const scope of ["admin", "wallet bogus", "WALLET", "", "wallet:internal"]) {
      const run = await cellctl(["token", "--sub", "alice", "--scope", scope]);
      expect(run.code, `scope "${scope}"`).not.toBe(0);
      expect(run.stdout, `scope "${scope}" printed a token`).toBe("");
      expect(run.stderr).toMatch(/unknown scope/);
    }
  });

  it("refuses an invalid or missing --sub with a message and a non-zero exit", async () => {
    for (const sub of ["bad user", "", "a/b", "x".repeat(129), "émile"]) {
      const run = await cellctl(["token", "--sub", sub]);
      expect(run.code, `sub "${sub}"`).not.toBe(0);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/--sub must be 1\.\.128 characters/);
    }
    const missing = await cellctl(["token"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toMatch(/--sub/);
  });

  it("refuses a malformed or out-of-range --ttl", async () => {
    for (const ttl of ["0", "15x", "-5", "31d", "1.5h"]) {
      const run = await cellctl(["token", "--sub", "alice", "--ttl", ttl]);
      expect(run.code, `ttl ${ttl}`).not.toBe(0);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/--ttl/);
    }
  });

  it("--help exits 0 and shows usage with examples", async () => {
    const help = await cellctl(["token", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: cellctl token/);
    expect(help.stdout).toMatch(/Examples:/);
    expect(help.stdout).toContain("cellctl token --sub alice");
    expect(help.stdout).toMatch(/--ttl 15m/);
    const top = await cellctl(["--help"]);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Usage: cellctl/);
    expect(top.stdout).toMatch(/token/);
  });

  it("production mode refuses the development secret (WALLET_MODE or NODE_ENV), set or defaulted", async () => {
    const envs: Record<string, string>[] = [
      { WALLET_MODE: "production" },
      { NODE_ENV: "production" },
      { WALLET_MODE: "production", WALLET_JWT_SECRET: DEVELOPMENT_JWT_SECRET },
    ];
    for (const env of envs) {
      const run = await cellctl(["token", "--sub", "alice"], env);
      expect(run.code, JSON.stringify(env)).not.toBe(0);
      expect(run.stdout).toBe("");
      expect(run.stderr).toMatch(/production mode refuses the development secret/);
    }
  });

  it("signs with WALLET_JWT_SECRET when set (the development secret no longer verifies it)", async () => {
    const secret = "a-real-secret-of-more-than-thirty-two-characters";
    const run = await cellctl(["token", "--sub", "alice"], { WALLET_MODE: "production", WALLET_JWT_SECRET: secret });
    expect(run.code, run.stderr).toBe(0);
    const jwt = run.stdout.trim();
    expect((await createTokenVerifier({ kind: "hs256", secret })(jwt)).ok).toBe(true);
    expect((await verifyDev(jwt)).ok).toBe(false);
  });
});

describe("cellctl tokens against a running cell process", () => {
  let cell: CellProcess;

  beforeAll(async () => {
    const path = join(mkdtempSync(join(tmpdir(), "cellwallet-cellctl-")), "ledger.sqlite");
    cell = await startCellProcess({ WALLET_STORE: "sqlite", WALLET_SQLITE_PATH: path, WALLET_JWT_SECRET: "" });
  });

  afterAll(async () => {
    await cell?.stop();
  });

  it("a minted token creates the user's wallet, reads it, and an operator token deposits to it", async () => {
    const userId = `cli-${Date.now().toString(36)}`;
    const user = (await cellctl(["token", "--sub", userId, "--scope", "wallet"])).stdout.trim();
    const created = await http(cell.url, "POST", "/api/v1/wallets", { token: user, body: { userId } });
    expect(created.status, created.text).toBe(201);
    expect(created.body.userId).toBe(userId);
    const walletId = created.body.walletId;

    const operator = (
      await cellctl(["token", "--sub", "ops-cli", "--scope", "wallet:operator", "--ttl", "15m"])
    ).stdout.trim();
    const deposit = await http(cell.url, "POST", `/api/v1/wallets/${walletId}/deposit`, {
      token: operator,
      body: { amount: "12.34" },
    });
    expect(deposit.status, deposit.text).toBe(201);
    const read = await http(cell.url, "GET", `/api/v1/wallets/${walletId}`, { token: user });
    expect(read.status).toBe(200);
    expect(read.body.balance).toBe("12.34");

    // A user token is scoped to its own subject.
    const other = (await cellctl(["token", "--sub", "someone-else"])).stdout.trim();
    expect((await http(cell.url, "GET", `/api/v1/wallets/${walletId}`, { token: other })).status).toBe(403);
  });

  it("a token signed with another secret is 401 at the cell", async () => {
    const foreign = (
      await cellctl(["token", "--sub", "mallory"], {
        WALLET_JWT_SECRET: "some-other-secret-that-the-cell-does-not-know",
      })
    ).stdout.trim();
    const res = await http(cell.url, "POST", "/api/v1/wallets", { token: foreign, body: { userId: "mallory" } });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("unauthenticated");
  });
});
