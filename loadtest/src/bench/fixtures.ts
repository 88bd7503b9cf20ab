import { randomBytes } from "node:crypto";
import { formatMinor, minorFromFormatted, mintToken } from "@cellwallet/contract";
import type { BenchWallet, BuiltRequest } from "./bench-types.js";
import type { Books, MoneyOp } from "./book.js";
import { call, forEachLimited } from "./http.js";

export const CURRENCY = "USD";
/** Every wallet starts with this much (minor units), so transfers rarely meet insufficient funds. */
export const SEED_MINOR = 10_000_00n;

/** A signing secret for this run only: the cells are started with it, the tokens are minted with it. */
export const BENCH_JWT_SECRET = `bench-${randomBytes(24).toString("hex")}`;

export const tokenFor = (sub: string, scope: string) =>
  mintToken({ sub, scopes: scope.split(" "), secret: BENCH_JWT_SECRET, ttlSeconds: 6 * 3600 });

export const money = (minor: bigint) => formatMinor(minor, CURRENCY);

/** Idempotency keys unique to this run. */
const RUN = randomBytes(6).toString("hex");
let sequence = 0;
export const newKey = (kind: string) => `bench-${RUN}-${kind}-${(sequence++).toString(36)}`;

/** The user ids createWallets() uses for `prefix` (e.g. to pin them to a cell before creating their wallets). */
export const userIdsFor = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `${prefix}-user-${String(i).padStart(4, "0")}`);

/** Creates `count` wallets (one per user) with the operator token, each owner with its own token. */
export async function createWallets(
  url: string,
  books: Books,
  operatorToken: string,
  count: number,
  prefix: string,
): Promise<BenchWallet[]> {
  const wallets: BenchWallet[] = [];
  const users = userIdsFor(prefix, count);
  await forEachLimited(users, 8, async (userId) => {
    const res = await call(url, "POST", "/api/v1/wallets", {
      token: operatorToken,
      body: JSON.stringify({ userId }),
      idempotencyKey: newKey("create"),
    });
    if (res.status !== 201) throw new Error(`creating the wallet of ${userId}: ${res.status} ${res.text}`);
    books.addWallet(res.body.walletId);
    wallets.push({ walletId: res.body.walletId, userId, token: await tokenFor(userId, "wallet") });
  });
  return wallets.sort((a, b) => a.userId.localeCompare(b.userId));
}

export function depositOp(wallet: BenchWallet, operatorToken: string, minor: bigint, kind: "seed" | "deposit") {
  const path = `/api/v1/wallets/${encodeURIComponent(wallet.walletId)}/deposit`;
  const op: MoneyOp = {
    key: newKey(kind),
    kind,
    path,
    body: JSON.stringify({ amount: money(minor), reference: `bench ${kind}` }),
    token: operatorToken,
    credit: wallet.walletId,
    amountMinor: minor,
  };
  return op;
}

export function transferOp(from: BenchWallet, to: BenchWallet, minor: bigint): MoneyOp {
  return {
    key: newKey("transfer"),
    kind: "transfer",
    path: "/api/v1/wallets/transfer",
    body: JSON.stringify({ fromWalletId: from.walletId, toWalletId: to.walletId, amount: money(minor) }),
    token: from.token,
    debit: from.walletId,
    credit: to.walletId,
    amountMinor: minor,
  };
}

export const asRequest = (op: MoneyOp): BuiltRequest => ({
  method: "POST",
  path: op.path,
  token: op.token,
  body: op.body,
  op,
});

/** Sends one tracked operation outside the load (setup, in-process phase); returns the status. */
export async function send(url: string, books: Books, op: MoneyOp): Promise<number> {
  books.track(op);
  const res = await call(url, "POST", op.path, { token: op.token, body: op.body, idempotencyKey: op.key });
  books.answer(op.key, res.status, res.text);
  return res.status;
}

/** Gives every wallet its starting balance. */
export async function seedWallets(url: string, books: Books, operatorToken: string, wallets: BenchWallet[]) {
  await forEachLimited(wallets, 8, async (wallet) => {
    const status = await send(url, books, depositOp(wallet, operatorToken, SEED_MINOR, "seed"));
    if (status !== 201) throw new Error(`seeding ${wallet.walletId}: ${status}`);
  });
}

export interface Verification {
  pass: boolean;
  lines: string[];
}

/**
 * The invariants of a cell against the client's books: every wallet's balance
 * and entry count as booked, the sum of balances = seeded + deposits −
 * withdrawals, and GET /wallets/{id}/audit valid with as many entries as the
 * wallet's version.
 */
export async function verifyCell(
  url: string,
  books: Books,
  operatorToken: string,
  wallets: BenchWallet[],
  // Which token reads a wallet: the operator's by default; the owner's spreads the reads over principals.
  readToken: (wallet: BenchWallet) => string = () => operatorToken,
): Promise<Verification> {
  const lines: string[] = [];
  const problems: string[] = [];
  let sum = 0n;
  let auditedEntries = 0;
  let validAudits = 0;
  await forEachLimited(wallets, 4, async (wallet) => {
    const path = `/api/v1/wallets/${encodeURIComponent(wallet.walletId)}`;
    const got = await call(url, "GET", path, { token: readToken(wallet) });
    if (got.status !== 200) {
      problems.push(`GET ${wallet.walletId}: ${got.status}`);
      return;
    }
    const balance = minorFromFormatted(got.body.balance, got.body.currency);
    sum += balance;
    const booked = books.wallets.get(wallet.walletId);
    if (!booked) problems.push(`${wallet.walletId}: not in the books`);
    else {
      if (booked.balance !== balance) {
        problems.push(`${wallet.walletId}: balance ${money(balance)}, books say ${money(booked.balance)}`);
      }
      if (booked.entries !== got.body.version) {
        problems.push(`${wallet.walletId}: version ${got.body.version}, books count ${booked.entries} entries`);
      }
    }
    const audit = await call(url, "GET", `${path}/audit`, { token: readToken(wallet) });
    if (audit.status !== 200) {
      problems.push(`audit ${wallet.walletId}: ${audit.status} ${audit.text.slice(0, 200)}`);
      return;
    }
    auditedEntries += audit.body.entries;
    if (audit.body.valid !== true) {
      problems.push(`audit ${wallet.walletId}: invalid from sequence ${audit.body.firstInvalidSequence}`);
    } else if (audit.body.entries !== got.body.version) {
      problems.push(`audit ${wallet.walletId}: ${audit.body.entries} entries, wallet version ${got.body.version}`);
    } else validAudits += 1;
  });
  const expected = books.expectedTotal();
  const t = books.totals;
  lines.push(
    `sum of balances ${money(sum)} = seeded ${money(t.seeded)} + deposits ${money(t.deposited)} − withdrawals ${money(t.withdrawn)} = ${money(expected)}: ${sum === expected ? "ok" : "MISMATCH"}`,
  );
  if (sum !== expected) problems.push("sum of balances differs from the books");
  lines.push(
    `per-wallet balance and entry count as booked: ${problems.filter((p) => !p.startsWith("audit")).length === 0 ? "ok" : "MISMATCH"} (${wallets.length} wallets, ${books.counts.applied} operations applied, ${books.counts.refused} refused)`,
  );
  lines.push(`audit valid: ${validAudits}/${wallets.length} wallets, ${auditedEntries} entries re-hashed`);
  if (books.openCount() > 0) problems.push(`${books.openCount()} operations without a definitive outcome`);
  if (books.inTransitCount() > 0) problems.push(`${books.inTransitCount()} cross-cell transfers still PENDING`);
  for (const p of problems.slice(0, 20)) lines.push(`  ! ${p}`);
  if (problems.length > 20) lines.push(`  ! … and ${problems.length - 20} more`);
  return { pass: problems.length === 0, lines };
}
