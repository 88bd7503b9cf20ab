import { type ChainVerification, ChainVerifier, minorFromFormatted } from "@cellwallet/chain";
import type { Transaction, Wallet } from "./types.js";

export interface WalletChainVerification extends ChainVerification {
  walletId: string;
  /** The chain ends exactly at the wallet's version and balance (entries newer than the wallet read are ignored). */
  matchesWallet: boolean;
}

/**
 * Offline verification of a wallet's chain from its public entries (any order, e.g. the API's newest-first
 * pages): the same ChainVerifier the platform's auditors use, fed in sequence order. It comes from
 * `@cellwallet/chain`, which has no dependency and imports only node:crypto (test/runtime-dependencies.test.ts).
 * Entries after the wallet's `version` (written after the wallet was read) are left out.
 */
export function verifyEntries(wallet: Wallet, entries: readonly Transaction[]): WalletChainVerification {
  const verifier = new ChainVerifier(minorFromFormatted);
  const chain = entries.filter((e) => e.sequence <= wallet.version).sort((a, b) => a.sequence - b.sequence);
  for (const entry of chain) verifier.add(entry);
  const result = verifier.result();
  const last = chain.at(-1);
  const balanceMatches =
    last === undefined
      ? minorFromFormatted(wallet.balance, wallet.currency) === 0n
      : last.balanceAfter === wallet.balance;
  return {
    ...result,
    walletId: wallet.walletId,
    matchesWallet: result.valid && result.entries === wallet.version && balanceMatches,
  };
}
