import { ChainVerifier, GENESIS_HASH, minorFromFormatted } from "@cellwallet/contract";
import type { WalletHead } from "./checkpoint.js";
import { type LedgerEntry, toTransactionView } from "./ledger-entry.js";
import type { Wallet } from "./wallet.js";

/** The verdict on one wallet: its chain, and its stored row against the chain. */
export interface WalletVerification {
  walletId: string;
  valid: boolean;
  /** Entries seen in the store. */
  entries: number;
  /** Hash of the last entry seen (64 zeros when none). */
  headHash: string;
  /** The first sequence that is wrong (missing, altered, out of place, or the head the row disagrees with). */
  firstInvalidSequence: number | null;
  reason?: string;
}

/**
 * Verifies one wallet from its stored row and its entries fed in ascending
 * sequence order (streaming, O(1) memory). Pure: the caller does the reading.
 *
 * The row is read before the entries, so under concurrent writes the store may
 * hold more entries than `wallet.version` says: the row is compared with the
 * chain state at its own version, and entries beyond it must be explained by a
 * fresher row (`finish(freshRow)`), else they were appended behind the service's back.
 */
/** A head signed by a verified checkpoint: the chain must pass through it. */
export interface Anchor {
  head: WalletHead;
  checkpoint: number;
}

export class WalletVerifier {
  private readonly chain = new ChainVerifier(minorFromFormatted);
  private atVersion: { hash: string; balance: bigint } | undefined;
  private anchorFailure: { sequence: number; reason: string } | undefined;
  private anchorReached = false;

  constructor(
    private readonly wallet: Wallet,
    private readonly anchor?: Anchor,
  ) {
    if (wallet.version === 0) this.atVersion = { hash: GENESIS_HASH, balance: 0n };
    if (anchor && anchor.head.version === 0) this.anchorReached = true;
  }

  add(entry: LedgerEntry): void {
    this.chain.add(toTransactionView(entry));
    const seen = this.chain.result();
    if (seen.entries === this.wallet.version && seen.valid) {
      this.atVersion = { hash: entry.hash, balance: this.chain.balance };
    }
    const anchor = this.anchor;
    if (anchor && seen.entries === anchor.head.version && seen.valid) {
      this.anchorReached = true;
      if (entry.hash !== anchor.head.headHash || this.chain.balance !== anchor.head.balance) {
        this.anchorFailure = {
          sequence: anchor.head.version,
          reason: `entry ${anchor.head.version} differs from the head signed by checkpoint ${anchor.checkpoint} (chain rewritten)`,
        };
      }
    }
  }

  /** Entries beyond the row's version need a fresher row to be legitimate: true when one is needed. */
  needsFreshRow(): boolean {
    const chain = this.chain.result();
    return chain.valid && chain.entries > this.wallet.version;
  }

  /** `fresh`: the wallet row read again after the entries (only consulted when needsFreshRow()). */
  finish(fresh?: Wallet): WalletVerification {
    const chain = this.chain.result();
    const base = { walletId: this.wallet.walletId, entries: chain.entries, headHash: chain.headHash };
    const invalid = (sequence: number, reason: string): WalletVerification => ({
      ...base,
      valid: false,
      firstInvalidSequence: sequence,
      reason,
    });
    // An anchor mismatch at v precedes a chain fault found later; it is the earlier evidence.
    if (
      this.anchorFailure &&
      (chain.firstInvalidSequence === null || this.anchorFailure.sequence < chain.firstInvalidSequence)
    ) {
      return invalid(this.anchorFailure.sequence, this.anchorFailure.reason);
    }
    if (chain.firstInvalidSequence !== null) return invalid(chain.firstInvalidSequence, chain.reason ?? "invalid");
    if (this.anchor && !this.anchorReached) {
      return invalid(
        chain.entries + 1,
        `checkpoint ${this.anchor.checkpoint} signed version ${this.anchor.head.version} but only ${chain.entries} entries exist`,
      );
    }
    const version = this.wallet.version;
    if (chain.entries < version) {
      return invalid(chain.entries + 1, `wallet version is ${version} but only ${chain.entries} entries exist`);
    }
    const at = this.atVersion;
    if (at === undefined) return invalid(Math.max(1, version), "chain state at the wallet's version is unknown");
    if (at.hash !== this.wallet.headHash) {
      return invalid(Math.max(1, version), "wallet headHash differs from the chain's hash at its version");
    }
    if (at.balance !== this.wallet.balance) {
      return invalid(Math.max(1, version), "wallet balance differs from the sum of its entries");
    }
    if (chain.entries > version) {
      // Written after the row was read, or appended without a row update: a fresh row tells which.
      const row = fresh ?? this.wallet;
      if (row.version < chain.entries) {
        return invalid(row.version + 1, `entries exist beyond the wallet's version ${row.version}`);
      }
      if (row.version === chain.entries && (row.headHash !== chain.headHash || row.balance !== this.chain.balance)) {
        return invalid(Math.max(1, row.version), "wallet head or balance differs from its chain");
      }
    }
    return { ...base, valid: true, firstInvalidSequence: null };
  }
}
