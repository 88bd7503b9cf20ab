import { GENESIS_HASH } from "@cellwallet/contract";
import { activeAtFirstEpoch, type Ownership } from "./ownership.js";

/** A wallet's current state. `version` counts its ledger entries; `headHash` is the last entry's hash. */
export interface Wallet {
  walletId: string;
  userId: string;
  currency: string;
  /** Integer minor units. */
  balance: bigint;
  version: number;
  headHash: string;
  /** createdAt of the last entry (epoch ms), 0 before the first: entry times never go backwards. */
  lastEntryAt: number;
  createdAt: number;
  updatedAt: number;
  /** Which copy this cell holds and at which placement epoch (see ownership.ts). */
  ownership: Ownership;
}

export function openWallet(walletId: string, userId: string, currency: string, now: number): Wallet {
  return {
    walletId,
    userId,
    currency,
    balance: 0n,
    version: 0,
    headHash: GENESIS_HASH,
    lastEntryAt: 0,
    createdAt: now,
    updatedAt: now,
    ownership: activeAtFirstEpoch(),
  };
}
