import { expect } from "vitest";
import type { AuditStore, Changes, IdempotencyRecord, MoneyPathStore } from "../../src/application/ledger-store.js";
import { type LedgerEntry, post } from "../../src/domain/ledger-entry.js";
import { openWallet, type Wallet } from "../../src/domain/wallet.js";

/** What the store contract suites (one per port, each run against SQLite and DynamoDB on moto) share. */
let seq = 0;
export const id = (prefix: string) =>
  `${prefix}${Date.now().toString(36)}${(seq++).toString(36).padStart(4, "0")}`.toUpperCase();
export const ctx = { principal: "tester", scopes: ["wallet"], requestId: "r-1" };

export function deposit(wallet: Wallet, amount: bigint, now: number): { wallet: Wallet; entry: LedgerEntry } {
  const posted = post(wallet, { transactionId: id("TX"), type: "DEPOSIT", amount, context: ctx }, now);
  if (!posted.ok) throw new Error("deposit refused");
  return posted.value;
}

/** A wallet's entries are sequences 1..n without a gap, their times never going backwards. */
export async function expectGapFreeChain(
  store: Pick<AuditStore, "streamEntries">,
  walletId: string,
  n: number,
): Promise<void> {
  const sequences: number[] = [];
  let previousAt = 0;
  for await (const entry of store.streamEntries(walletId)) {
    sequences.push(entry.sequence);
    expect(entry.createdAt).toBeGreaterThanOrEqual(previousAt);
    previousAt = entry.createdAt;
  }
  expect(sequences).toEqual(Array.from({ length: n }, (_, i) => i + 1));
}

export function record(scopeKey: string, body = "{}"): IdempotencyRecord {
  const now = Date.now();
  return {
    scopeKey,
    fingerprint: "f",
    status: 201,
    contentType: "application/json",
    body,
    createdAt: now,
    expiresAt: now + 86_400_000,
  };
}

/** Writes through the money path's commit, as the use cases do. */
export function moneyPathHelpers(store: () => MoneyPathStore) {
  async function newWallet(userId = id("U"), currency = "USD"): Promise<Wallet> {
    const wallet = openWallet(id("W"), userId, currency, Date.now());
    const outcome = await store().commit({
      walletIds: [],
      decide: () => ({ changes: { newWallet: wallet }, result: null }),
    });
    expect(outcome.ok).toBe(true);
    return wallet;
  }

  /** Applies one deposit through commit, reading the wallet inside decide. */
  async function depositVia(walletId: string, amount: bigint, extra: Partial<Changes> = {}) {
    return store().commit({
      walletIds: [walletId],
      decide: ({ wallets, now }) => {
        const w = wallets.get(walletId);
        if (!w) throw new Error("wallet missing in decide");
        const { wallet, entry } = deposit(w, amount, now);
        return {
          changes: { walletUpdates: [{ wallet, expectedVersion: w.version }], entries: [entry], ...extra },
          result: entry,
        };
      },
    });
  }

  /** Commits one deposit per instant (fixed times, so history queries have exact answers); returns the entries. */
  async function depositsAt(wallet: Wallet, times: number[]): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    let current = wallet;
    for (const t of times) {
      const posted = deposit(current, 100n, t);
      const previous = current;
      current = posted.wallet;
      entries.push(posted.entry);
      await store().commit({
        walletIds: [wallet.walletId],
        decide: () => ({
          changes: {
            walletUpdates: [{ wallet: posted.wallet, expectedVersion: previous.version }],
            entries: [posted.entry],
          },
          result: 0,
        }),
      });
    }
    return entries;
  }

  return { newWallet, depositVia, depositsAt };
}
