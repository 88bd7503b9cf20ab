import { ChainVerifier, minorFromFormatted } from "@cellwallet/contract";
import type { LocalPlatform } from "@cellwallet/control-plane/local";
import { expect } from "vitest";
import { type CellctlRun, runCellctl } from "../../test-support/cellctl.js";
import { type HttpResult, http } from "../../test-support/http.js";

/**
 * Shared by the migration end-to-end tests: a careful bank client (every POST
 * with an Idempotency-Key, retried on 503 honouring Retry-After, on 409
 * in-progress and on dropped connections) and the ledger checks.
 */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function cellctl(args: string[], env: Record<string, string>): Promise<CellctlRun> {
  return runCellctl(args, env);
}

/** A user pinned to `cellId` (override) with a wallet and `deposits` deposits of 1.00 through the router; its wallet id. */
export async function seedUser(
  platform: LocalPlatform,
  api: string,
  ops: string,
  userId: string,
  cellId: string,
  deposits: number,
): Promise<string> {
  const placement = platform.openPlacementStore();
  await placement.setOverride(userId, cellId);
  await placement.close();
  const created = await http(api, "POST", "/api/v1/wallets", { token: ops, body: { userId } });
  expect(created.status).toBe(201);
  const walletId = created.body.walletId as string;
  for (let i = 0; i < deposits; i++) {
    const d = await http(api, "POST", `/api/v1/wallets/${walletId}/deposit`, {
      token: ops,
      idempotencyKey: `${userId}-seed-${i}`,
      body: { amount: "1.00" },
    });
    expect(d.status).toBe(201);
  }
  return walletId;
}

/** `cellctl users locate <userId> --json` as a process, which must succeed. */
export async function locateUser(userId: string, env: Record<string, string>) {
  const run = await cellctl(["users", "locate", userId, "--json"], env);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

export interface SentOp {
  kind: "deposit" | "withdraw" | "transfer";
  key: string;
  walletId: string;
  toWalletId?: string;
  cents: bigint;
  token: string;
  status?: number;
  /** transactionId (deposit, withdraw) or transferId. */
  id?: string;
  /** 503 answers seen before the final one, and how long the op waited through them. */
  unavailable: number;
  pausedMs: number;
  /** The final answer's body (for failure messages). */
  answer?: string;
}

const cents = (n: bigint) => `${n / 100n}.${String(n % 100n).padStart(2, "0")}`;

/** Sends until the platform gives a final answer; every retry reuses the key, so nothing applies twice. */
export async function sendOp(routers: string[], op: SentOp, seen: { walletLocationLeaks: number }): Promise<void> {
  const path = op.kind === "transfer" ? "/api/v1/wallets/transfer" : `/api/v1/wallets/${op.walletId}/${op.kind}`;
  const body =
    op.kind === "transfer"
      ? { fromWalletId: op.walletId, toWalletId: op.toWalletId, amount: cents(op.cents) }
      : { amount: cents(op.cents) };
  let firstUnavailable: number | undefined;
  const deadline = Date.now() + 30_000;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    const router = routers[attempt % routers.length] as string;
    let res: HttpResult;
    try {
      res = await http(router, "POST", path, { token: op.token, idempotencyKey: op.key, body });
    } catch {
      await sleep(50);
      continue;
    }
    if (res.headers.get("wallet-location") !== null) seen.walletLocationLeaks += 1;
    if (res.status === 503) {
      op.unavailable += 1;
      firstUnavailable ??= Date.now();
      // Honour Retry-After (seconds), as a careful client does.
      const retryAfter = Number(res.headers.get("retry-after") ?? "1");
      await sleep((Number.isFinite(retryAfter) ? retryAfter : 1) * 1000);
      continue;
    }
    if (res.status === 409 && res.body?.code === "idempotency-in-progress") {
      await sleep(50);
      continue;
    }
    op.status = res.status;
    op.answer = res.text.slice(0, 300);
    op.id = op.kind === "transfer" ? res.body?.transferId : res.body?.transactionId;
    if (firstUnavailable !== undefined) op.pausedMs = Date.now() - firstUnavailable;
    return;
  }
  throw new Error(`no final answer for ${op.key}`);
}

export interface LedgerEntry {
  transactionId: string;
  type: string;
  amount: string;
  balanceAfter: string;
  transferId?: string;
}

export async function entriesOf(api: string, walletId: string, token: string): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  let cursor: string | null = null;
  do {
    const page: HttpResult = await http(
      api,
      "GET",
      `/api/v1/wallets/${walletId}/transactions?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      { token },
    );
    if (page.status !== 200) throw new Error(`transactions of ${walletId}: HTTP ${page.status} ${page.text}`);
    entries.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return entries;
}

/** Verifies a wallet's chain offline from its history (oldest first) and returns the computed balance. */
export function verifyChain(entries: LedgerEntry[]): { valid: boolean; balance: bigint } {
  const verifier = new ChainVerifier(minorFromFormatted);
  for (const e of [...entries].reverse()) verifier.add(e as never);
  return { valid: verifier.result().valid, balance: verifier.balance };
}

export async function waitFinal(api: string, transferId: string, token: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await http(api, "GET", `/api/v1/transfers/${transferId}`, { token });
    if (t.status === 200 && t.body.status !== "PENDING") return t.body.status;
    if (Date.now() > deadline) throw new Error(`transfer ${transferId} still ${t.status} ${t.body?.status}`);
    await sleep(100);
  }
}
