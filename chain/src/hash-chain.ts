import { createHash } from "node:crypto";
import { canonicalJson } from "./jcs.js";

/**
 * The per-wallet hash chain, exactly as docs/conventions.md defines it. Everything a
 * verifier needs is in the public Transaction objects, so anyone who may read a
 * wallet's history can check it offline with this module alone. It imports nothing but
 * node:crypto (the canonical JSON is ./jcs.ts): it is part of `@cellwallet/chain`, the package the
 * client runs on, and the cell hashes with the very same functions.
 */

export const GENESIS_HASH = "0".repeat(64);

export type EntryType = "DEPOSIT" | "WITHDRAWAL" | "TRANSFER_OUT" | "TRANSFER_IN" | "TRANSFER_REFUND";

export const ENTRY_TYPES: readonly EntryType[] = [
  "DEPOSIT",
  "WITHDRAWAL",
  "TRANSFER_OUT",
  "TRANSFER_IN",
  "TRANSFER_REFUND",
];

/** A ledger entry as the public API shows it (amounts and times as strings). */
export interface TransactionView {
  transactionId: string;
  walletId: string;
  type: EntryType;
  amount: string;
  currency: string;
  balanceAfter: string;
  sequence: number;
  createdAt: string;
  contextDigest: string;
  prevHash: string;
  hash: string;
  reference?: string;
  transferId?: string;
  counterpartyWalletId?: string;
}

/** Who did what, from where: stored for auditors, published only as its digest. */
export interface AuditContext {
  principal?: string;
  scopes?: string[];
  clientIp?: string;
  userAgent?: string;
  requestId?: string;
  idempotencyKey?: string;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Hex SHA-256 of the RFC 8785 canonical JSON of the context, absent members omitted. */
export function contextDigest(context: AuditContext): string {
  const members: Record<string, unknown> = {};
  for (const key of ["principal", "scopes", "clientIp", "userAgent", "requestId", "idempotencyKey"] as const) {
    if (context[key] !== undefined) members[key] = context[key];
  }
  return sha256Hex(canonicalJson(members));
}

export type HashedFields = Omit<TransactionView, "hash">;

/** Hex SHA-256 of the JCS canonical JSON of exactly the chained members. */
export function entryHash(entry: HashedFields): string {
  const members: Record<string, unknown> = {
    prevHash: entry.prevHash,
    walletId: entry.walletId,
    sequence: entry.sequence,
    transactionId: entry.transactionId,
    type: entry.type,
    amount: entry.amount,
    currency: entry.currency,
    balanceAfter: entry.balanceAfter,
    createdAt: entry.createdAt,
    contextDigest: entry.contextDigest,
  };
  if (entry.reference !== undefined) members.reference = entry.reference;
  if (entry.transferId !== undefined) members.transferId = entry.transferId;
  if (entry.counterpartyWalletId !== undefined) members.counterpartyWalletId = entry.counterpartyWalletId;
  return sha256Hex(canonicalJson(members));
}

export interface ChainVerification {
  valid: boolean;
  entries: number;
  headHash: string;
  firstInvalidSequence: number | null;
  /** Why the first invalid entry is invalid (for operators; not part of the public audit shape). */
  reason?: string;
}

/**
 * Incremental verifier: feed entries in ascending sequence order (streaming, O(1)
 * memory). Checks sequences are gap-free from 1, each prevHash links to the
 * previous hash, each hash recomputes, and balances follow from the amounts.
 */
export class ChainVerifier {
  private count = 0;
  private head = GENESIS_HASH;
  private lastHash = GENESIS_HASH;
  private balanceMinor: bigint | undefined = 0n;
  private firstInvalid: number | null = null;
  private why: string | undefined;

  constructor(private readonly toMinor: (amount: string, currency: string) => bigint) {}

  add(entry: TransactionView): void {
    this.count += 1;
    this.lastHash = entry.hash;
    if (this.firstInvalid !== null) return;
    const reason = this.check(entry);
    if (reason !== undefined) {
      this.firstInvalid = this.count;
      this.why = reason;
    }
  }

  /** Why `entry` breaks the chain, or undefined when it extends it (then the state advances). */
  private check(entry: TransactionView): string | undefined {
    if (entry.sequence !== this.count) return `expected sequence ${this.count}, found ${entry.sequence}`;
    if (entry.prevHash !== this.head) return "prevHash does not link to the previous entry";
    const { hash, ...fields } = entry;
    if (entryHash(fields) !== hash) return "hash does not match the entry's contents";
    const amount = this.minor(entry.amount, entry.currency);
    const balanceAfter = this.minor(entry.balanceAfter, entry.currency);
    // A re-hashed entry may carry anything: an unreadable amount is an invalid entry, not a crash.
    if (amount === undefined || balanceAfter === undefined) return "amount or balanceAfter is not an amount";
    if (amount <= 0n) return "amount is not positive";
    const delta = entry.type === "WITHDRAWAL" || entry.type === "TRANSFER_OUT" ? -amount : amount;
    const next = (this.balanceMinor ?? 0n) + delta;
    if (next < 0n) return "balance would be negative";
    if (balanceAfter !== next) return "balanceAfter is not the running sum";
    this.balanceMinor = next;
    this.head = hash;
    return undefined;
  }

  private minor(text: string, currency: string): bigint | undefined {
    try {
      return this.toMinor(text, currency);
    } catch {
      return undefined;
    }
  }

  /** The running balance in minor units after the entries seen (meaningful only while valid). */
  get balance(): bigint {
    return this.balanceMinor ?? 0n;
  }

  result(): ChainVerification {
    const out: ChainVerification = {
      valid: this.firstInvalid === null,
      entries: this.count,
      headHash: this.lastHash,
      firstInvalidSequence: this.firstInvalid,
    };
    if (this.why) out.reason = this.why;
    return out;
  }
}

/** Hex SHA-256 of the RFC 8785 canonical JSON of any JSON value (for other tamper-evident logs). */
export function canonicalSha256(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
