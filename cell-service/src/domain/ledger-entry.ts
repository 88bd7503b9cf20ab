import {
  type AuditContext,
  contextDigest,
  type EntryType,
  entryHash,
  formatMinor,
  formatTimestamp,
  type TransactionView,
} from "@cellwallet/contract";
import { fail, ok, type Result } from "./result.js";
import type { Wallet } from "./wallet.js";

/** One immutable ledger entry of one wallet. Amounts in minor units, times in epoch ms. */
export interface LedgerEntry {
  walletId: string;
  sequence: number;
  transactionId: string;
  type: EntryType;
  amount: bigint;
  currency: string;
  balanceAfter: bigint;
  createdAt: number;
  contextDigest: string;
  prevHash: string;
  hash: string;
  reference?: string;
  transferId?: string;
  counterpartyWalletId?: string;
  /** The audit context behind contextDigest: kept for auditors, never shown to API readers. */
  context: AuditContext;
}

export interface Posting {
  transactionId: string;
  type: EntryType;
  amount: bigint;
  reference?: string;
  transferId?: string;
  counterpartyWalletId?: string;
  context: AuditContext;
}

const DEBITS: ReadonlySet<EntryType> = new Set(["WITHDRAWAL", "TRANSFER_OUT"]);

export function isDebit(type: EntryType): boolean {
  return DEBITS.has(type);
}

/**
 * Appends one posting to a wallet: the next sequence, the running balance, a
 * createdAt that never goes backwards, and the hash linking it to the chain.
 * A debit that would make the balance negative is refused (nothing is written).
 */
export function post(wallet: Wallet, posting: Posting, now: number): Result<{ wallet: Wallet; entry: LedgerEntry }> {
  if (posting.amount <= 0n) throw new Error("posting amounts are positive; the sign comes from the type");
  const delta = isDebit(posting.type) ? -posting.amount : posting.amount;
  const balanceAfter = wallet.balance + delta;
  if (balanceAfter < 0n) {
    return fail({
      code: "insufficient-funds",
      detail: `wallet ${wallet.walletId} has ${formatMinor(wallet.balance, wallet.currency)} ${wallet.currency}, needs ${formatMinor(posting.amount, wallet.currency)}`,
    });
  }
  const createdAt = Math.max(now, wallet.lastEntryAt);
  const sequence = wallet.version + 1;
  const unhashed: Omit<LedgerEntry, "hash"> = {
    walletId: wallet.walletId,
    sequence,
    transactionId: posting.transactionId,
    type: posting.type,
    amount: posting.amount,
    currency: wallet.currency,
    balanceAfter,
    createdAt,
    contextDigest: contextDigest(posting.context),
    prevHash: wallet.headHash,
    context: posting.context,
  };
  if (posting.reference !== undefined) unhashed.reference = posting.reference;
  if (posting.transferId !== undefined) unhashed.transferId = posting.transferId;
  if (posting.counterpartyWalletId !== undefined) unhashed.counterpartyWalletId = posting.counterpartyWalletId;
  const { hash: _ignored, ...fields } = toTransactionView({ ...unhashed, hash: "" });
  const entry: LedgerEntry = { ...unhashed, hash: entryHash(fields) };
  return ok({
    entry,
    wallet: {
      ...wallet,
      balance: balanceAfter,
      version: sequence,
      headHash: entry.hash,
      lastEntryAt: createdAt,
      updatedAt: createdAt,
    },
  });
}

/** The public Transaction shape (and the exact members the hash covers, plus `hash`). */
export function toTransactionView(entry: LedgerEntry): TransactionView {
  const view: TransactionView = {
    transactionId: entry.transactionId,
    walletId: entry.walletId,
    type: entry.type,
    amount: formatMinor(entry.amount, entry.currency),
    currency: entry.currency,
    balanceAfter: formatMinor(entry.balanceAfter, entry.currency),
    sequence: entry.sequence,
    createdAt: formatTimestamp(entry.createdAt),
    contextDigest: entry.contextDigest,
    prevHash: entry.prevHash,
    hash: entry.hash,
  };
  if (entry.reference !== undefined) view.reference = entry.reference;
  if (entry.transferId !== undefined) view.transferId = entry.transferId;
  if (entry.counterpartyWalletId !== undefined) view.counterpartyWalletId = entry.counterpartyWalletId;
  return view;
}
